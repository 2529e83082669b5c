import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.js';
import { showBanner, showFailure } from '../components/banner.js';
import { RevisionDiff } from '../components/revision-diff.js';
import { loadConfig, type Validation } from '../config-api.js';
import { ago, dateTime } from '../format.js';
import { refreshNow } from '../live.js';
import { getRevision, listRevisions, rollback, validateRollback } from '../revisions-api.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import type { Revision, Snapshot } from '../types.js';
import { parseHash } from '../route.js';
import { Review } from './review.js';

/** Every accepted change, newest first; compare any two; roll back to any one (as a new revision). */
export function History() {
  const user = useStore(currentUser);
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [head, setHead] = useState<number | undefined>();
  const [error, setError] = useState('');
  const [a, setA] = useState<number | undefined>();
  const [b, setB] = useState<number | undefined>();
  const [busy, setBusy] = useState(false);
  const [reviewing, setReviewing] = useState<{
    revision: Revision;
    validation: Validation;
    candidate: Snapshot;
    current: Snapshot;
  } | null>(null);

  async function reload() {
    try {
      const [list, config] = await Promise.all([listRevisions(), loadConfig().catch(() => undefined)]);
      setRevisions(list);
      const current = list.find((r) => r.current)?.id ?? config?.revision ?? list[0]?.id;
      setHead(current);
      return { list, current };
    } catch (e) {
      setError(describeError(e));
      return undefined;
    }
  }

  useEffect(() => {
    void reload().then((loaded) => {
      if (!loaded) return;
      const { params } = parseHash(location.hash);
      // `?rollback=N` (from the audit page): open the review of that rollback at once.
      const rollbackTo = loaded.list.find((r) => r.id === Number(params.get('rollback')));
      if (params.has('rollback')) {
        // Once: a reload of the page after the rollback must not open its review again.
        window.history.replaceState(null, '', '#/history');
        if (rollbackTo && rollbackTo.id !== loaded.current) void reviewRollback(rollbackTo);
      }
      const rev = Number(params.get('rev'));
      const target = loaded.list.find((r) => r.id === rev) ?? loaded.list[0];
      if (!target) return;
      // Revision 0 is the empty config before the first change.
      const parent = target.parentId ?? loaded.list.find((r) => r.id < target.id)?.id ?? 0;
      setB(target.id);
      setA(parent);
    });
  }, []);

  /** A rollback is reviewed like any change: the diff from the config in effect and its impact on live traffic. */
  async function reviewRollback(r: Revision) {
    setBusy(true);
    try {
      const [validation, target, live] = await Promise.all([
        validateRollback(r.id),
        getRevision(r.id),
        loadConfig(),
      ]);
      setReviewing({ revision: r, validation, candidate: target.snapshot, current: live.snapshot });
    } catch (e) {
      showFailure(e);
    } finally {
      setBusy(false);
    }
  }

  async function applyRollback(message: string) {
    if (!reviewing) return;
    const { revision: r, validation } = reviewing;
    setBusy(true);
    try {
      const res = await rollback(r.id, validation.revision, message);
      if (!res.changed) showBanner('same', `revision ${r.id} is what runs already`);
      else showBanner('done', `rolled back to revision ${r.id} as revision ${res.revision}`);
      setReviewing(null);
      const loaded = await reload();
      if (loaded?.current !== undefined) {
        setB(loaded.current);
        setA(validation.revision);
      }
      refreshNow();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        // The review showed a config that is no longer in effect: review again against the new head.
        showBanner(
          'error',
          `Someone applied another revision meanwhile: review the rollback to #${r.id} again.`,
        );
        await reload();
        setBusy(false);
        await reviewRollback(r);
        return;
      }
      showFailure(e);
    } finally {
      setBusy(false);
    }
  }

  if (reviewing) {
    const r = reviewing.revision;
    return (
      <Review
        current={reviewing.current}
        revision={reviewing.validation.revision}
        candidate={reviewing.candidate}
        summary={`roll back to revision ${r.id} (${dateTime(r.createdAt)}, by ${r.author})`}
        validation={reviewing.validation}
        busy={busy}
        applyLabel={`Roll back to revision ${r.id}`}
        candidateLabel={`revision ${r.id}`}
        note="A rollback makes a new revision; server admin states are not changed by it."
        onBack={() => setReviewing(null)}
        onApply={applyRollback}
      />
    );
  }

  if (error) return <p class="form-error">Cannot load the history: {error}</p>;
  if (!revisions) return <p class="muted">Loading history…</p>;
  if (revisions.length === 0)
    return <p class="empty">No revisions yet: the first configuration change creates revision 1.</p>;
  const mayRollback = can(user, 'admin');

  return (
    <div class="history">
      <section class="panel">
        <h2>Revisions</h2>
        <p class="muted small">Pick two revisions (A = before, B = after) to compare them side by side.</p>
        <div class="table-wrap">
          <table class="cards revisions">
            <thead>
              <tr>
                <th scope="col">A</th>
                <th scope="col">B</th>
                <th scope="col" class="num">
                  Revision
                </th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Kind</th>
                <th scope="col">Message</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {revisions.map((r) => (
                <tr key={r.id} data-revision={r.id} class={r.id === head ? 'current' : ''}>
                  <td data-label="A (before)">
                    <input
                      type="radio"
                      name="rev-a"
                      aria-label={`Compare from revision ${r.id}`}
                      checked={a === r.id}
                      onChange={() => setA(r.id)}
                    />
                  </td>
                  <td data-label="B (after)">
                    <input
                      type="radio"
                      name="rev-b"
                      aria-label={`Compare to revision ${r.id}`}
                      checked={b === r.id}
                      onChange={() => setB(r.id)}
                    />
                  </td>
                  <th scope="row" class="num">
                    #{r.id}
                    {r.id === head && <span class="current-mark">current</span>}
                  </th>
                  <td data-label="When" title={ago(r.createdAt)}>
                    {dateTime(r.createdAt)}
                  </td>
                  <td data-label="Who">{r.author}</td>
                  <td data-label="Kind">{r.kind}</td>
                  <td data-label="Message">{r.message || <span class="muted">–</span>}</td>
                  <td data-label="Actions">
                    <a
                      href={`/api/v1/revisions/${r.id}/haproxy.cfg`}
                      download={`tether-r${r.id}.cfg`}
                      aria-label={`Download revision ${r.id} as haproxy.cfg`}
                    >
                      haproxy.cfg
                    </a>{' '}
                    {r.id !== head && (
                      <button
                        type="button"
                        class="danger-outline"
                        disabled={busy || !mayRollback}
                        title={mayRollback ? undefined : 'needs the admin role'}
                        onClick={() => reviewRollback(r)}
                      >
                        Roll back to #{r.id}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel">
        <h2>{a !== undefined && b !== undefined ? `Revision ${a} → revision ${b}` : 'Compare'}</h2>
        {a !== undefined && b !== undefined && a !== b ? (
          <RevisionDiff before={a} after={b} />
        ) : (
          <p class="muted">Pick two different revisions.</p>
        )}
      </section>
    </div>
  );
}
