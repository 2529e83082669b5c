// Reading the current config with its revision, dry-running a candidate, and applying it under If-Match.
import { request } from './api.js';
import type { ImpactReport, Snapshot, SnapshotDiff } from './types.js';

export interface CurrentConfig {
  snapshot: Snapshot;
  /** Head revision (ETag), 0 for an empty config; undefined when the API sent none. */
  revision?: number;
}

function unwrapSnapshot(data: unknown): Snapshot {
  const d = data as Record<string, unknown>;
  return (d && 'snapshot' in d && typeof d.snapshot === 'object' ? d.snapshot : d) as Snapshot;
}

export function revisionFromEtag(headers: Headers): number | undefined {
  const m = /"(\d+)"/.exec(headers.get('ETag') ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function loadConfig(): Promise<CurrentConfig> {
  const r = await request<unknown>('GET', '/config');
  const snapshot = unwrapSnapshot(r.data);
  return {
    snapshot: {
      defaults: snapshot.defaults,
      frontends: snapshot.frontends ?? [],
      backends: snapshot.backends ?? [],
    },
    revision: revisionFromEtag(r.headers) ?? (r.data as { revision?: number })?.revision,
  };
}

export interface Validation {
  impact?: ImpactReport;
  diff?: SnapshotDiff;
  raw: unknown;
}

export async function validateCandidate(candidate: Snapshot): Promise<Validation> {
  const r = await request<Record<string, unknown>>('POST', '/config/validate', candidate);
  const d = r.data ?? {};
  const diff =
    (d.diff as SnapshotDiff | undefined) ??
    (Array.isArray(d.changes)
      ? { changes: d.changes as SnapshotDiff['changes'], text: String(d.text ?? '') }
      : undefined);
  return { impact: d.impact as ImpactReport | undefined, diff, raw: d };
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
  const r = await request<{ revision?: number; changed?: boolean }>(
    change.method,
    `${change.path}${query}`,
    change.body,
    headers,
  );
  return { revision: r.data?.revision ?? revisionFromEtag(r.headers), changed: r.data?.changed !== false };
}
