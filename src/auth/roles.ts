import { SetMetadata } from '@nestjs/common';

// Roles follow HAProxy's stats socket levels: each role includes everything of the one before it.
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const REQUIRED_ROLE = 'tether:required-role';
export const PUBLIC_ROUTE = 'tether:public-route';

/** The least role a route needs. Every controller method carries one (or @Public). */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
/** Reachable without credentials (only /healthz and the login itself). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The lesser of two roles: what a token may do when its owner may do less than the token was made for. */
export function lesserRole(a: Role, b: Role): Role {
  return roleAllows(a, b) ? b : a;
}

/** Roles below `role`: the ones a token is capped to when its owner is demoted to `role`. */
export function rolesAbove(role: Role): Role[] {
  return ROLES.slice(ROLES.indexOf(role) + 1);
}

/** Who is calling: set on the request by the auth guard. */
export interface Actor {
  username: string;
  role: Role;
  tokenId?: number;
  /** The user acting: the logged-in user, or the owner of the API token. */
  userId?: number;
}

/** The actor of a request, for audit; 'system' before authentication is in place. */
export function actorOf(request: { user?: Actor }): Actor {
  return request.user ?? { username: 'system', role: 'admin' };
}
