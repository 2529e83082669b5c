// Who is calling: plain data the auth guard sets on the request and every layer reads (audit,
// change contexts). It lives in common/ so common/ needs nothing from auth/ (auth/roles.ts re-exports it).

// Roles follow HAProxy's stats socket levels: each role includes everything of the one before it.
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
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
