import { formatDuration } from '../../../src/schema/durations.js';
import { sideBySide, type LineOp } from '../diff.js';
import type { DiffChange } from '../types.js';

export function SideBySide({ ops, left, right }: { ops: LineOp[]; left: string; right: string }) {
  const rows = sideBySide(ops);
  if (rows.length === 0) return <p class="muted">No differences.</p>;
  return (
    <div
      class="diff-side"
      role="table"
      aria-label={`Differences between ${left} and ${right}`}
      data-testid="diff"
    >
      <div class="col-head" role="columnheader">
        {left}
      </div>
      <div class="col-head" role="columnheader">
        {right}
      </div>
      {rows.map((r, i) => [
        <pre
          key={`l${i}`}
          class={
            r.kind === 'del' || r.kind === 'change'
              ? 'del'
              : r.kind === 'add'
                ? 'blank'
                : r.kind === 'hunk'
                  ? 'blank muted'
                  : ''
          }
        >
          {r.left ?? ''}
        </pre>,
        <pre
          key={`r${i}`}
          class={
            r.kind === 'add' || r.kind === 'change'
              ? 'add'
              : r.kind === 'del'
                ? 'blank'
                : r.kind === 'hunk'
                  ? 'blank muted'
                  : ''
          }
        >
          {r.right ?? ''}
        </pre>,
      ])}
    </div>
  );
}

function show(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ');
}

/** Config paths whose value is a duration in ms (schema/fields.ts): the review says `2d`, as HAProxy and the
 *  form write it, not 172800000 (issue 13, point 8); the milliseconds stay in the cell's title. */
const DURATION_PATH =
  /(?:^|\.)timeouts\.\w+$|\.check\.(?:inter|timeout)$|\.closeTimeout$|\.loginRate\.(?:\w+\.)?per$/;

function Value({ path, value }: { path: string; value: unknown }) {
  if (typeof value === 'number' && DURATION_PATH.test(path))
    return <code title={`${value} ms`}>{formatDuration(value)}</code>;
  return <code>{show(value)}</code>;
}

/** The readable form of a change: one row per changed field, old and new value side by side. */
export function ChangeList({ changes }: { changes: DiffChange[] }) {
  if (changes.length === 0) return <p class="muted">No changes.</p>;
  return (
    <div class="table-wrap">
      <table class="changes cards">
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Change</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c, i) => (
            <tr key={i}>
              <th scope="row">
                <code>{c.path}</code>
              </th>
              <td data-label="Change">{c.kind}</td>
              <td data-label="Before" class="before">
                <Value path={c.path} value={c.before} />
              </td>
              <td data-label="After" class="after">
                <Value path={c.path} value={c.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
