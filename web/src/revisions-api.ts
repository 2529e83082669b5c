// History: the list of revisions, the diff of any two, and rollback.
import { api } from './api.js';
import type { Revision, SnapshotDiff } from './types.js';

function listOf<T>(data: unknown, ...keys: string[]): T[] {
  if (Array.isArray(data)) return data as T[];
  const d = data as Record<string, unknown>;
  for (const k of keys) if (Array.isArray(d?.[k])) return d[k] as T[];
  return [];
}

export async function listRevisions(): Promise<Revision[]> {
  const data = await api.get<unknown>('/revisions?limit=200');
  return listOf<Revision>(data, 'items', 'revisions', 'data').sort((a, b) => b.id - a.id);
}

/** What changed going from `before` to `after`. */
export function revisionDiff(after: number, before: number): Promise<SnapshotDiff> {
  return api.get<SnapshotDiff>(`/revisions/${after}/diff?against=${before}`);
}

export function rollback(id: number, message?: string) {
  const q = message ? `?message=${encodeURIComponent(message)}` : '';
  return api.post<{ revision?: number; changed?: boolean; id?: number }>(`/revisions/${id}/rollback${q}`);
}

export { listOf };
