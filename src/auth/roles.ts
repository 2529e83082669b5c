import { SetMetadata } from '@nestjs/common';
import type { Role } from '../common/actor.js';

// Roles and actors are plain data in common/actor.ts; re-exported for auth's many importers.
export { actorOf, roleAllows, ROLES, type Actor, type Role } from '../common/actor.js';

export const REQUIRED_ROLE = 'tether:required-role';
export const PUBLIC_ROUTE = 'tether:public-route';

/** The least role a route needs. Every controller method carries one (or @Public). */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
/** Reachable without credentials (only /healthz and the login itself). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
