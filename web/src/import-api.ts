// POST /import/haproxy (docs/haproxy-import.md): a haproxy.cfg as text/plain, dry run first, then applied as
// one revision of kind `import` under If-Match.
import { ApiError, PlainText, request } from './api.js';
import type { Validation } from './config-api.js';
import type { Snapshot } from './types.js';

/** What the import did with one statement of the file: 1-based line (0 for the file as a whole). */
export interface ImportWarning {
  line: number;
  text: string;
  message: string;
}

/** A server the file writes `disabled`: the import puts it in maint with the revision. */
export interface ImportAdminState {
  backend: string;
  server: string;
  state: 'maint';
  line: number;
  message: string;
}

export interface ImportDryRun extends Validation {
  dryRun: true;
  valid: boolean;
  /** The config the file gives (secrets masked). */
  config: Snapshot;
  warnings: ImportWarning[];
  /** Servers the import would put in maint (an older appliance may not send it). */
  adminStates?: ImportAdminState[];
}

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}

export async function dryRunImport(text: string, strict: boolean): Promise<ImportDryRun> {
  const q = query({ dryRun: 'true', strict: strict ? 'true' : undefined });
  return (await request<ImportDryRun>('POST', `/import/haproxy${q}`, new PlainText(text))).data;
}

export async function applyImport(text: string, strict: boolean, revision: number, message: string) {
  const q = query({ strict: strict ? 'true' : undefined, message: message.trim() || undefined });
  const r = await request<{ revision: number; changed: boolean; warnings: ImportWarning[] }>(
    'POST',
    `/import/haproxy${q}`,
    new PlainText(text),
    { 'If-Match': `"${revision}"` },
  );
  return r.data;
}

/** The warnings a refusal carries besides its errors (the API adds them once the file was read). */
export function warningsOf(err: unknown): ImportWarning[] {
  if (!(err instanceof ApiError)) return [];
  const w = (err.body as { warnings?: unknown }).warnings;
  return Array.isArray(w) ? (w as ImportWarning[]) : [];
}
