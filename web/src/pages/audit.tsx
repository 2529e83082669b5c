import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { confirmAction } from '../components/confirm.js';
import { RevisionDiff } from '../components/revision-diff.js';
import { dateTime } from '../format.js';
import { usePoll } from '../hooks.js';
import { listRevisions, type Page } from '../revisions-api.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import type { AuditEntry, Revision } from '../types.js';

/** Who did what, when, from where; config changes open their revision's diff and offer rollback. */
export function Audit() {
  const user = useStore(currentUser);
  const [who, setWho] = useState('');
  const [action, setAction] = useState('');
  const [open, setOpen] = useState<number | null>(null);

  const { data, error } = usePoll(
    async () => {
      const q = new URLSearchParams({ limit: '200' });
      if (who.trim()) q.set('user', who.trim());
      if (action.trim()) q.set('action', action.trim());
      const [entries, revisions] = await Promise.all([
        api.get<Page<AuditEntry>>(`/audit?${q}`).then((page) => page.items),
        listRevisions().catch(() => [] as Revision[]),
      ]);
      return { entries, revisions };
    },
    5000,
    [who, action],
  );

  const revisions = data?.revisions ?? [];
  const head = revisions.find((r) => r.current)?.id ?? revisions[0]?.id;
  // Revision 0 is the empty config before the first change.
  const parentOf = (id: number) =>
    revisions.find((r) => r.id === id)?.parentId ?? revisions.find((r) => r.id < id)?.id ?? 0;

  // `before`: the revision whose change the operator wants gone; everything after it goes too.
  async function doRollback(id: number, before?: number) {
    const laterToo = before !== undefined && head !== undefined && head > before;
    const ok = await confirmAction({
      title: `Roll back to revision ${id}?`,
      body: (
        <p>
          {before !== undefined &&
            `This undoes revision ${before}${laterToo ? ` and every revision after it, up to ${head}` : ''}. `}
          The configuration of revision {id} becomes a new revision. Admin states and live sessions are not
          changed.
        </p>
      ),
      action: `Review the rollback to revision ${id}`,
    });
    if (!ok) return;
    // Rollbacks go through the history page's review: the diff from the live config and its impact.
    location.hash = `#/history?rollback=${id}`;
  }

  const entries = data?.entries ?? [];
  return (
    <div class="audit">
      <form class="toolbar" onSubmit={(e) => e.preventDefault()}>
        <label>
          User{' '}
          <input
            type="search"
            value={who}
            onChange={(e) => setWho((e.target as HTMLInputElement).value)}
            placeholder="eg: admin"
          />
        </label>
        <label>
          Action{' '}
          <input
            type="search"
            value={action}
            onChange={(e) => setAction((e.target as HTMLInputElement).value)}
            placeholder="eg: server.state"
          />
        </label>
        {error !== undefined && <span class="field-error">{describeError(error)}</span>}
      </form>
      {entries.length === 0 ? (
        <p class="empty">{data ? 'No audit entries.' : 'Loading…'}</p>
      ) : (
        <div class="table-wrap panel">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">From</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Result</th>
                <th scope="col">Revision</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => {
                const rev = e.revisionId ?? undefined;
                const parent = rev !== undefined ? parentOf(rev) : undefined;
                return [
                  <tr key={e.id} data-audit={e.id}>
                    <th scope="row">{dateTime(e.at)}</th>
                    <td data-label="Who">
                      {e.actor}
                      {e.role && <span class="muted"> ({e.role})</span>}
                    </td>
                    <td data-label="From" class="mono small">
                      {e.sourceAddress ?? '–'}
                    </td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                      {detailText(e.detail) && <div class="muted small">{detailText(e.detail)}</div>}
                    </td>
                    <td data-label="Target">{e.target ?? '–'}</td>
                    <td data-label="Result">
                      <span
                        class={`badge ${e.result === 'ok' ? 'h-up' : e.result === 'denied' ? 'h-goingup' : 'h-down'}`}
                      >
                        {e.result}
                      </span>
                    </td>
                    <td data-label="Revision">
                      {rev !== undefined ? (
                        <span>
                          <a href={`#/history?rev=${rev}`}>#{rev}</a>{' '}
                          <button
                            type="button"
                            class="link-button"
                            aria-expanded={open === e.id}
                            onClick={() => setOpen(open === e.id ? null : e.id)}
                          >
                            {open === e.id ? 'hide diff' : 'diff'}
                          </button>
                        </span>
                      ) : (
                        '–'
                      )}
                    </td>
                  </tr>,
                  open === e.id && rev !== undefined && (
                    <tr key={`${e.id}-diff`} class="diff-row">
                      <td colSpan={7}>
                        <RevisionDiff before={parent ?? 0} after={rev} />
                        {parent !== undefined && parent > 0 && (
                          <button
                            type="button"
                            class="danger-outline"
                            disabled={!can(user, 'admin')}
                            onClick={() => doRollback(parent, rev)}
                          >
                            Roll back to before this change (revision {parent})
                          </button>
                        )}{' '}
                        {rev !== head && (
                          <button
                            type="button"
                            class="danger-outline"
                            disabled={!can(user, 'admin')}
                            onClick={() => doRollback(rev)}
                          >
                            Roll back to revision {rev}
                          </button>
                        )}
                        {rev === head && <p class="muted small">This is the current revision.</p>}
                      </td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function detailText(detail: AuditEntry['detail']): string {
  if (!detail) return '';
  if (typeof detail === 'string') {
    try {
      return detailText(JSON.parse(detail) as Record<string, unknown>);
    } catch {
      return detail;
    }
  }
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}
