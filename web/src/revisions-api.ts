// History: the list of revisions, the diff of any two, and rollback.
import { api, request } from './api.js';
import type { Validation } from './config-api.js';
import type { DiffChange, Revision, Snapshot, SnapshotDiff } from './types.js';

/** The API's paged list shape (revisions, audit). */
export interface Page<T> {
  items: T[];
  total: number;
}

export async function listRevisions(): Promise<Revision[]> {
  const page = await api.get<Page<Revision> & { head: number }>('/revisions?limit=200');
  return page.items;
}

/** What changed going from `before` to `after`. */
export function revisionDiff(after: number, before: number): Promise<SnapshotDiff> {
  return api.get<SnapshotDiff>(`/revisions/${after}/diff?against=${before}`);
}

/** What revision `id` changed against its parent. */
export async function revisionChanges(id: number): Promise<DiffChange[]> {
  return (await api.get<SnapshotDiff>(`/revisions/${id}/diff`)).changes;
}

/** One revision with its (masked) snapshot. */
export function getRevision(id: number): Promise<Revision & { snapshot: Snapshot }> {
  return api.get<Revision & { snapshot: Snapshot }>(`/revisions/${id}`);
}

/** Dry run of a rollback: the diff from the config in effect to revision `id`, and its impact on live traffic. */
export function validateRollback(id: number): Promise<Validation> {
  return api.post<Validation>(`/revisions/${id}/rollback/validate`);
}

/** Rolls back under If-Match: 412 if the config moved on since `basedOn` (the revision the review showed). */
export async function rollback(id: number, basedOn?: number, message?: string) {
  const q = message?.trim() ? `?message=${encodeURIComponent(message.trim())}` : '';
  const headers: Record<string, string> = basedOn !== undefined ? { 'If-Match': `"${basedOn}"` } : {};
  const r = await request<{ revision: number; changed: boolean }>(
    'POST',
    `/revisions/${id}/rollback${q}`,
    {},
    headers,
  );
  return r.data;
}
