// History: the list of revisions, the diff of any two, and rollback.
import { api } from './api.js';
import type { Revision, SnapshotDiff } from './types.js';

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

export function rollback(id: number, message?: string) {
  const q = message ? `?message=${encodeURIComponent(message)}` : '';
  return api.post<{ revision: number; changed: boolean }>(`/revisions/${id}/rollback${q}`);
}
