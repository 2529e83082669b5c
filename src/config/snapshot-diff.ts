// What changed between two snapshots: a structured list (frontends, backends and servers matched by
// name, so a removal does not shift everything after it) and a unified text diff of the
// pretty-printed documents (when few enough lines changed for that to be cheap). Secrets are compared
// in clear but shown masked: a changed secret is listed as changed, with the mask on both sides.
import { createTwoFilesPatch } from 'diff';
import { snapshotJson } from './normalize.js';
import { maskSnapshot, SECRET_MASK } from './secrets.js';
import type { Snapshot } from '../schema/snapshot.js';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface SnapshotChange {
  /** e.g. `frontends[sms].bind.port`, `backends[gw].servers[gw1].weight`. */
  path: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

export interface SnapshotDiff {
  changes: SnapshotChange[];
  text: string;
}

export function diffSnapshots(
  before: Snapshot,
  after: Snapshot,
  labels = { before: 'before', after: 'after' },
): SnapshotDiff {
  const changes: SnapshotChange[] = [];
  diffValue(changes, 'defaults', before.defaults, after.defaults);
  diffNamed(changes, 'frontends', before.frontends, after.frontends);
  diffNamed(changes, 'backends', before.backends, after.backends);
  const text = unifiedDiff(
    labels,
    snapshotJson(maskSnapshot(before)) + '\n',
    snapshotJson(maskSnapshot(after)) + '\n',
  );
  return { changes: changes.map(maskChange), text };
}

/**
 * Most changed lines a text diff is computed for. Myers' diff costs the documents' length times the
 * lines changed: 2,000 renamed frontends took 2.9 s of event loop. Beyond this, `changes` says it all.
 */
export const TEXT_DIFF_MAX_LINES = 100;

function unifiedDiff(labels: { before: string; after: string }, before: string, after: string): string {
  const changed = unmatchedLines(before, after);
  const patch =
    changed <= TEXT_DIFF_MAX_LINES
      ? createTwoFilesPatch(labels.before, labels.after, before, after, '', '', {
          context: 3,
          // Lines moved about (not counted above) can still make it long: give up rather than stall.
          maxEditLength: TEXT_DIFF_MAX_LINES,
        })
      : undefined;
  return (
    patch ??
    `--- ${labels.before}\n+++ ${labels.after}\n` +
      `(no text diff: more than ${TEXT_DIFF_MAX_LINES} lines changed; see the list of changes)\n`
  );
}

/** Lines of either text without an equal line in the other, counted in one pass (a lower bound of the edits). */
function unmatchedLines(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const line of a.split('\n')) counts.set(line, (counts.get(line) ?? 0) + 1);
  let unmatched = 0;
  for (const line of b.split('\n')) {
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    else unmatched++;
  }
  for (const left of counts.values()) unmatched += left;
  return unmatched;
}

function diffNamed(
  changes: SnapshotChange[],
  path: string,
  before: Array<{ name: string }>,
  after: Array<{ name: string }>,
): void {
  const afterByName = new Map(after.map((item) => [item.name, item]));
  const beforeByName = new Map(before.map((item) => [item.name, item]));
  for (const item of before) {
    const next = afterByName.get(item.name);
    if (next === undefined) changes.push({ path: `${path}[${item.name}]`, kind: 'removed', before: item });
    else diffValue(changes, `${path}[${item.name}]`, item, next);
  }
  for (const item of after) {
    if (!beforeByName.has(item.name))
      changes.push({ path: `${path}[${item.name}]`, kind: 'added', after: item });
  }
}

function diffValue(changes: SnapshotChange[], path: string, before: unknown, after: unknown): void {
  if (isNamedList(before) && isNamedList(after)) {
    diffNamed(changes, path, before, after);
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) {
      const at = `${path}.${key}`;
      if (!(key in before)) changes.push({ path: at, kind: 'added', after: after[key] });
      else if (!(key in after)) changes.push({ path: at, kind: 'removed', before: before[key] });
      else diffValue(changes, at, before[key], after[key]);
    }
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after))
    changes.push({ path, kind: 'changed', before, after });
}

function maskChange(change: SnapshotChange): SnapshotChange {
  const masked = { ...change };
  if ('before' in change) masked.before = maskValue(change.path, change.before);
  if ('after' in change) masked.after = maskValue(change.path, change.after);
  return masked;
}

function maskValue(path: string, value: unknown): unknown {
  if (path.endsWith('.secret')) return SECRET_MASK;
  if (Array.isArray(value)) return value.map((v) => maskValue('', v));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, maskValue(`${path}.${key}`, v)]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNamedList(value: unknown): value is Array<{ name: string }> {
  return Array.isArray(value) && value.every((v) => isPlainObject(v) && typeof v.name === 'string');
}
