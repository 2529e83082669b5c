// Diffs for review and history: a structural change list (path, kind, before, after) and a line diff
// shown side by side. The API's own diff is preferred wherever it gives one; these fill the gaps.
import type { DiffChange } from './types.js';

export type LineOp = { op: ' ' | '-' | '+' | '@'; text: string };

/** LCS line diff; snapshots are a few hundred lines, so the quadratic table is fine. */
export function lineDiff(a: string[], b: string[]): LineOp[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) ops.push({ op: '-', text: a[i++] });
    else ops.push({ op: '+', text: b[j++] });
  }
  while (i < n) ops.push({ op: '-', text: a[i++] });
  while (j < m) ops.push({ op: '+', text: b[j++] });
  return ops;
}

/** Reads a unified diff (the API's `text`); hunk headers become separators. */
export function parseUnified(text: string): LineOp[] {
  const ops: LineOp[] = [];
  for (const line of text.split('\n')) {
    if (
      line.startsWith('---') ||
      line.startsWith('+++') ||
      line.startsWith('Index:') ||
      line.startsWith('====')
    )
      continue;
    if (line.startsWith('@@')) ops.push({ op: '@', text: line });
    else if (line.startsWith('-')) ops.push({ op: '-', text: line.slice(1) });
    else if (line.startsWith('+')) ops.push({ op: '+', text: line.slice(1) });
    else if (line.startsWith(' ')) ops.push({ op: ' ', text: line.slice(1) });
    else if (line.startsWith('\\')) continue;
    else if (line !== '') ops.push({ op: ' ', text: line });
  }
  return ops;
}

export interface SideRow {
  left?: string;
  right?: string;
  kind: 'same' | 'change' | 'del' | 'add' | 'hunk';
}

/** Pairs each run of removed lines with the added lines after it, so a changed value sits on one row. */
export function sideBySide(ops: LineOp[], context = 3): SideRow[] {
  const rows: SideRow[] = [];
  let k = 0;
  while (k < ops.length) {
    const o = ops[k];
    if (o.op === ' ') {
      rows.push({ left: o.text, right: o.text, kind: 'same' });
      k++;
    } else if (o.op === '@') {
      rows.push({ left: o.text, right: o.text, kind: 'hunk' });
      k++;
    } else {
      const dels: string[] = [];
      const adds: string[] = [];
      while (k < ops.length && ops[k].op === '-') dels.push(ops[k++].text);
      while (k < ops.length && ops[k].op === '+') adds.push(ops[k++].text);
      for (let x = 0; x < Math.max(dels.length, adds.length); x++) {
        const left = dels[x];
        const right = adds[x];
        rows.push({
          left,
          right,
          kind: left !== undefined && right !== undefined ? 'change' : left !== undefined ? 'del' : 'add',
        });
      }
    }
  }
  return collapse(rows, context);
}

/** Keeps `context` unchanged rows around changes; longer unchanged stretches become one "…" row. */
function collapse(rows: SideRow[], context: number): SideRow[] {
  const keep = rows.map((r) => r.kind !== 'same');
  const near = rows.map((_, i) => {
    for (let d = -context; d <= context; d++) if (keep[i + d]) return true;
    return false;
  });
  const out: SideRow[] = [];
  let skipped = 0;
  rows.forEach((r, i) => {
    if (near[i]) {
      if (skipped) out.push({ left: `… ${skipped} unchanged lines`, right: '', kind: 'hunk' });
      skipped = 0;
      out.push(r);
    } else skipped++;
  });
  if (skipped && out.length) out.push({ left: `… ${skipped} unchanged lines`, right: '', kind: 'hunk' });
  return out;
}

export function jsonLines(value: unknown): string[] {
  return JSON.stringify(value, null, 2).split('\n');
}

/** Structural changes, with named list items addressed by name: backends[gw].servers[s1].weight. */
export function changesOf(before: unknown, after: unknown, path = ''): DiffChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (Array.isArray(before) && Array.isArray(after) && named(before) && named(after)) {
    const out: DiffChange[] = [];
    const b = new Map(before.map((x) => [x.name, x]));
    const a = new Map(after.map((x) => [x.name, x]));
    for (const [name, value] of b) {
      const p = `${path}[${name}]`;
      if (!a.has(name)) out.push({ path: p, kind: 'removed', before: value });
      else out.push(...changesOf(value, a.get(name), p));
    }
    for (const [name, value] of a)
      if (!b.has(name)) out.push({ path: `${path}[${name}]`, kind: 'added', after: value });
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => {
      const p = path ? `${path}.${key}` : key;
      if (!(key in before)) return [{ path: p, kind: 'added', after: after[key] }];
      if (!(key in after)) return [{ path: p, kind: 'removed', before: before[key] }];
      return changesOf(before[key], after[key], p);
    });
  }
  return [{ path: path || '(whole config)', kind: 'changed', before, after }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function named(list: unknown[]): list is Array<{ name: string }> {
  return list.every((x) => isObject(x) && typeof x.name === 'string');
}
