// A conflict (412) while editing: someone applied a revision after this form was opened. The form is
// reloaded from the new head with this operator's own edits re-applied (a 3-way merge: the item as the
// form opened it, as the operator left it, as it is now), and every field where an own edit replaces
// the other operator's new value is reported, so the next review cannot quietly undo their change.

/** A field where an own edit would undo the other change: `path` as the API's diffs write it. */
export interface Overwrite {
  /** e.g. `servers[gw2].weight`, `check.inter`: arrays of named items are keyed by name. */
  path: string;
  /** The other change's value (now in effect). */
  theirs: unknown;
  /** This operator's value (what applying would set). */
  mine: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamedList = (v: unknown): v is Array<{ name: string }> =>
  Array.isArray(v) && v.every((x) => isPlain(x) && typeof x.name === 'string');

/** `mine` rebased onto `theirs` (both descended from `base`), and the fields where mine overrides theirs. */
export function rebase<T>(base: T, mine: T, theirs: T): { merged: T; overwrites: Overwrite[] } {
  const overwrites: Overwrite[] = [];
  const merged = merge(base, mine, theirs, '', overwrites) as T;
  return { merged, overwrites };
}

function merge(base: unknown, mine: unknown, theirs: unknown, path: string, out: Overwrite[]): unknown {
  if (same(mine, base)) return theirs;
  if (same(theirs, base) || same(mine, theirs)) return mine;
  if (isPlain(base) && isPlain(mine) && isPlain(theirs)) {
    const result: Record<string, unknown> = {};
    const keys = new Set([...Object.keys(theirs), ...Object.keys(mine)]);
    for (const key of keys) {
      const value = merge(base[key], mine[key], theirs[key], path ? `${path}.${key}` : key, out);
      if (value !== undefined) result[key] = value;
    }
    return result;
  }
  if (isNamedList(base) && isNamedList(mine) && isNamedList(theirs))
    return mergeNamed(base, mine, theirs, path, out);
  out.push({ path, theirs, mine });
  return mine;
}

/** Servers and the like, matched by name: theirs' order, then the ones this operator added. */
function mergeNamed(
  base: Array<{ name: string }>,
  mine: Array<{ name: string }>,
  theirs: Array<{ name: string }>,
  path: string,
  out: Overwrite[],
): unknown[] {
  const byName = (list: Array<{ name: string }>) => new Map(list.map((x) => [x.name, x]));
  const [b, m, t] = [byName(base), byName(mine), byName(theirs)];
  const names = [...t.keys(), ...[...m.keys()].filter((n) => !t.has(n))];
  const result: unknown[] = [];
  for (const name of names) {
    const value = merge(b.get(name), m.get(name), t.get(name), `${path}[${name}]`, out);
    if (value !== undefined) result.push(value);
  }
  return result;
}

/** "weight 2 → 1": the last part of the path and both values, as an operator reads them. */
export function describeOverwrite(o: Overwrite): string {
  const field = o.path.replace(/^.*[.\]]/, '') || o.path;
  return `${field} ${shown(o.theirs)} → ${shown(o.mine)}`;
}

function shown(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
