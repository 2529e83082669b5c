// Reading the current config with its revision, dry-running a candidate, and applying it under If-Match.
import { api, request } from './api.js';
import type { ImpactReport, Snapshot, SnapshotDiff } from './types.js';

export interface CurrentConfig {
  snapshot: Snapshot;
  /** Head revision (also the ETag), 0 for an empty config. */
  revision: number;
}

/** GET /config answers the whole document with its revision: `{ revision, defaults, frontends, backends }`. */
export async function loadConfig(): Promise<CurrentConfig> {
  const { revision, defaults, frontends, backends } = await api.get<Snapshot & { revision: number }>(
    '/config',
  );
  return { snapshot: { defaults, frontends, backends }, revision };
}

/** POST /config/validate: the diff against the head and the impact on live traffic. */
export interface Validation extends SnapshotDiff {
  revision: number;
  changed: boolean;
  impact: ImpactReport;
}

export function validateCandidate(candidate: Snapshot): Promise<Validation> {
  return api.post<Validation>('/config/validate', candidate);
}

/** The request that makes a reviewed change: the resource's own endpoint, so audit and history name it. */
export interface ChangeRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
}

/** Applies under If-Match (the revision the review was based on: 412 if someone changed the config meanwhile). */
export async function applyChange(change: ChangeRequest, revision: number | undefined, message: string) {
  const query = message.trim() ? `?message=${encodeURIComponent(message.trim())}` : '';
  const headers: Record<string, string> = revision !== undefined ? { 'If-Match': `"${revision}"` } : {};
  // Every change, deletes included, answers `{ revision, changed, … }`.
  const r = await request<{ revision: number; changed: boolean }>(
    change.method,
    `${change.path}${query}`,
    change.body,
    headers,
  );
  return { revision: r.data.revision, changed: r.data.changed };
}

/** A weight change as the review sees it: the candidate, its dry run (how many clients move) and the revision. */
export interface WeightEstimate {
  current: Snapshot;
  candidate: Snapshot;
  revision: number;
  validation: Validation;
}

/** Dry-runs `backend/server` at `weight`, so the inline edit shows the same estimate as the full form. */
export async function estimateWeight(
  backend: string,
  server: string,
  weight: number,
): Promise<WeightEstimate> {
  const { snapshot, revision } = await loadConfig();
  const candidate: Snapshot = {
    ...snapshot,
    backends: snapshot.backends.map((b) =>
      b.name !== backend
        ? b
        : { ...b, servers: b.servers.map((s) => (s.name === server ? { ...s, weight } : s)) },
    ),
  };
  return { current: snapshot, candidate, revision, validation: await validateCandidate(candidate) };
}
