import { In, type EntityManager } from 'typeorm';
import { rolesAbove, type Role } from '../auth/roles.js';
import { ApiTokenEntity } from './api-token.entity.js';

// What happens to a user's API tokens when the user changes. Run inside the transaction of that change, so a token
// never has more power than its owner has at any committed moment.

/** The owner was demoted to `role`: every token of theirs above it is brought down to it. Returns how many. */
export async function capOwnerTokens(manager: EntityManager, ownerId: number, role: Role): Promise<number> {
  const above = rolesAbove(role);
  if (above.length === 0) return 0;
  const result = await manager.getRepository(ApiTokenEntity).update({ ownerId, role: In(above) }, { role });
  return result.affected ?? 0;
}

/** The owner is being deleted: all their tokens go (the foreign key would cascade too; this counts them). */
export async function revokeOwnerTokens(manager: EntityManager, ownerId: number): Promise<number> {
  const result = await manager.getRepository(ApiTokenEntity).delete({ ownerId });
  return result.affected ?? 0;
}
