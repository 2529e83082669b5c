import { SetMetadata } from '@nestjs/common';
import { roleAllows, ROLES, type Role } from '../common/actor.js';

// Roles and actors are plain data in common/actor.ts; re-exported for auth's many importers.
export { actorOf, roleAllows, ROLES, type Actor, type Role } from '../common/actor.js';

export const REQUIRED_ROLE = 'tether:required-role';
export const PUBLIC_ROUTE = 'tether:public-route';

/** The least role a route needs. Every controller method carries one (or @Public). */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
/** Reachable without credentials (only /healthz and the login itself). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The lesser of two roles: what a token may do when its owner may do less than the token was made for. */
export function lesserRole(a: Role, b: Role): Role {
  return roleAllows(a, b) ? b : a;
}

/** Roles above `role`: the ones a token is capped from when its owner is demoted to `role`. */
export function rolesAbove(role: Role): Role[] {
  return ROLES.slice(ROLES.indexOf(role) + 1);
}
