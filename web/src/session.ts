// Who is signed in, for the header and to grey out what the role cannot do (the API still decides).
import { Store } from './store.js';
import type { User } from './types.js';

export const currentUser = new Store<User | null>(null);

const RANK = { viewer: 0, operator: 1, admin: 2 } as const;

export function can(user: User | null, need: keyof typeof RANK): boolean {
  // Without access control (no login endpoint) every action is offered; the API answers for itself.
  if (!user) return true;
  return RANK[user.role] >= RANK[need];
}
