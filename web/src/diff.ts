// Diffs for review and history come from the API (a structural change list and a unified text diff);
// this turns the unified text into rows shown side by side.

export type LineOp = { op: ' ' | '-' | '+' | '@'; text: string };

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
    // A line without a prefix is the API's note in place of a diff too long to show: a row of its own.
    else if (line !== '') ops.push({ op: '@', text: line });
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
