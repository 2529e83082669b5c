import { useEffect, useRef, useState } from 'preact/hooks';
import { api, describeError, request, seg } from '../api.js';
import { AdminBadge, HealthBadge } from '../components/badges.js';
import { showBanner, showFailure } from '../components/banner.js';
import { confirmAction } from '../components/confirm.js';
import { estimateWeight, type WeightEstimate } from '../config-api.js';
import { ago, bytes, count, dateTime, ms, seconds } from '../format.js';
import { refreshNow } from '../live.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import type { AdminState, ServerStats } from '../types.js';
import { Impact } from './review.js';

const ACTIONS: Array<{ state: AdminState; label: string; verb: string; explain: string }> = [
  { state: 'ready', label: 'Ready', verb: 'Set ready', explain: 'It takes new connections again.' },
  {
    state: 'drain',
    label: 'Drain',
    verb: 'Drain',
    explain: 'It takes no new connections; its current sessions are kept until they end.',
  },
  {
    state: 'maint',
    label: 'Maint',
    verb: 'Put in maintenance',
    explain: 'It takes no new connections and its health checks pause; current sessions are kept.',
  },
];

interface StateResult {
  previous?: AdminState;
  state?: AdminState;
  sessionsClosed?: number;
  changed?: boolean;
}

/** `at`: the server's clock when these stats were taken, so ages don't depend on the browser's clock. */
export function ServerRow({ server: s, at }: { server: ServerStats; at: number }) {
  const user = useStore(currentUser);
  const [busy, setBusy] = useState(false);
  const [editingWeight, setEditingWeight] = useState(false);
  const weightButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  useEffect(() => {
    if (editingWeight || !returnFocus.current) return;
    returnFocus.current = false;
    weightButton.current?.focus();
  }, [editingWeight]);
  const id = `${s.backend}/${s.name}`;
  const mayOperate = can(user, 'operator');
  const roleHint = mayOperate ? undefined : 'needs the operator role';

  async function run<T>(work: () => Promise<T>, report: (r: T) => void): Promise<void> {
    setBusy(true);
    try {
      report(await work());
      refreshNow();
    } catch (err) {
      showFailure(err, id);
    } finally {
      setBusy(false);
    }
  }

  async function setState(target: (typeof ACTIONS)[number]) {
    // A draining server may be drained again: to give its drain a deadline, or to replace the one it has.
    if (s.adminState === target.state && target.state !== 'drain') {
      showBanner('same', `${id} is already ${target.state.toUpperCase()}`);
      return;
    }
    // Maintenance may also cut the sessions at once; the checkbox says how many.
    let cut = false;
    // A drain may finish by itself: the sessions left are closed at the deadline, then the server moves on.
    const finish = { on: false, minutes: '30', then: 'maint' as 'maint' | 'drain' };
    const ok = await confirmAction({
      title: `${target.verb} ${id}?`,
      body: (
        <div>
          <p>
            {target.explain} It has {count(s.scur)} session{s.scur === 1 ? '' : 's'} now.
          </p>
          {target.state === 'maint' && s.scur > 0 && (
            <label class="check">
              <input type="checkbox" onChange={(e) => (cut = (e.target as HTMLInputElement).checked)} /> also
              cut its {count(s.scur)} session{s.scur === 1 ? '' : 's'} now
            </label>
          )}
          {target.state === 'drain' && (
            <fieldset class="drain-deadline">
              <label class="check">
                <input
                  type="checkbox"
                  data-testid="drain-with-deadline"
                  onChange={(e) => (finish.on = (e.target as HTMLInputElement).checked)}
                />{' '}
                drain with a deadline: close the sessions left after
              </label>{' '}
              <input
                type="number"
                min={0.01}
                max={10080}
                step="any"
                value={finish.minutes}
                aria-label="deadline in minutes"
                data-testid="drain-deadline-minutes"
                onInput={(e) => (finish.minutes = (e.target as HTMLInputElement).value)}
              />{' '}
              minutes (gracefully on CMPP-inspected frontends), then when none is left{' '}
              <select
                aria-label="state when no session is left"
                data-testid="drain-then"
                onChange={(e) => (finish.then = (e.target as HTMLSelectElement).value as 'maint' | 'drain')}
              >
                <option value="maint">go to MAINT</option>
                <option value="drain">stay DRAIN</option>
              </select>
            </fieldset>
          )}
        </div>
      ),
      action: `${target.verb} ${s.name}`,
    });
    if (!ok) return;
    const before = s.adminState;
    const deadline = finish.on ? Math.round(Number(finish.minutes) * 60_000) : undefined;
    await run(
      () =>
        api.put<StateResult>(`/backends/${seg(s.backend)}/servers/${seg(s.name)}/state`, {
          state: target.state,
          ...(cut ? { shutdownSessions: true } : {}),
          ...(deadline !== undefined ? { deadline, then: finish.then } : {}),
        }),
      (r) => {
        const previous = r?.previous ?? before;
        const now = r?.state ?? target.state;
        const closed = r?.sessionsClosed ? `, ${sessions(r.sessionsClosed)} cut` : '';
        const until =
          deadline !== undefined ? `, deadline in ${ms(deadline)} then ${finish.then.toUpperCase()}` : '';
        if (r?.changed === false || (previous === now && until === ''))
          showBanner('same', `${id} was already ${now.toUpperCase()}${closed}`);
        else showBanner('done', `${id} ${previous.toUpperCase()} → ${now.toUpperCase()}${closed}${until}`);
      },
    );
  }

  async function shutdown() {
    const n = s.scur;
    const ok = await confirmAction({
      title: `Cut the sessions of ${id}?`,
      body: (
        <p>
          This closes <b>{count(n)}</b> live {n === 1 ? 'session' : 'sessions'} on {id} now. Clients will have
          to reconnect.
        </p>
      ),
      action: `Cut ${sessions(n)}`,
      danger: true,
    });
    if (!ok) return;
    await run(
      () =>
        api.post<{ closed: number }>(`/backends/${seg(s.backend)}/servers/${seg(s.name)}/shutdown-sessions`),
      ({ closed }) => {
        if (closed === 0) showBanner('same', `${id} had no sessions to cut`);
        else showBanner('done', `${id}: ${sessions(closed)} cut`);
      },
    );
  }

  /** Closes the weight editor and gives the focus back to the button that opened it. */
  function closeWeightEditor() {
    setEditingWeight(false);
    returnFocus.current = true;
  }

  async function saveWeight(weight: number) {
    closeWeightEditor();
    if (weight === s.weight) {
      showBanner('same', `${id} weight is already ${weight}`);
      return;
    }
    // The same estimate as the full form's review: how many current clients would move.
    setBusy(true);
    let estimate: WeightEstimate | undefined;
    let noEstimate = '';
    try {
      estimate = await estimateWeight(s.backend, s.name, weight);
    } catch (err) {
      noEstimate = describeError(err);
    } finally {
      setBusy(false);
    }
    const ok = await confirmAction({
      title: `Change the weight of ${id}?`,
      body: (
        <div>
          <p>
            Weight {s.weight} → {weight}. New connections follow it at once; current sessions are untouched.
            This creates a configuration revision.
          </p>
          {estimate ? (
            <Impact
              impact={estimate.validation.impact}
              current={estimate.current}
              candidate={estimate.candidate}
            />
          ) : (
            <p class="muted">No estimate of the clients that move: {noEstimate}</p>
          )}
        </div>
      ),
      action: `Set weight ${weight}`,
    });
    if (!ok) return;
    // Under the revision the estimate was made on: a change meanwhile is refused (412), not applied blind.
    const headers: Record<string, string> = estimate ? { 'If-Match': `"${estimate.revision}"` } : {};
    await run(
      async () =>
        (
          await request<{ revision: number; changed: boolean }>(
            'PATCH',
            `/backends/${seg(s.backend)}/servers/${seg(s.name)}`,
            { weight },
            headers,
          )
        ).data,
      ({ revision, changed }) => {
        if (!changed) showBanner('same', `${id} weight was already ${weight}`);
        else showBanner('done', `${id} weight ${s.weight} → ${weight} (revision ${revision})`);
      },
    );
  }

  const draining = s.adminState === 'drain';
  return (
    <tr class={`server-row${s.backup ? ' backup-row' : ''}`} data-server={s.name} aria-busy={busy}>
      <th scope="row" data-label="Server">
        <span class="server-name">{s.name}</span>
        {s.backup && <span class="badge backup">backup</span>}
        <div class="muted small">
          {s.address}:{s.port}
        </div>
      </th>
      <td data-label="Health">
        <HealthBadge server={s} />
      </td>
      <td data-label="Admin">
        <div class="admin-cell">
          <AdminBadge state={s.adminState} />
          {draining && <DrainProgressLine server={s} />}
        </div>
      </td>
      <td class="num" data-label="Weight">
        {editingWeight ? (
          <WeightEditor initial={s.weight} onSave={saveWeight} onCancel={closeWeightEditor} />
        ) : (
          <button
            ref={weightButton}
            type="button"
            class="link-button"
            disabled={busy || !can(user, 'operator')}
            title={roleHint ?? 'edit weight'}
            aria-label={`Edit weight of ${s.name}, now ${s.weight}`}
            onClick={() => setEditingWeight(true)}
          >
            {s.weight} ✎
          </button>
        )}
      </td>
      <td class="num" data-label="Cur">
        {count(s.scur)}
      </td>
      <td class="num" data-label="Max">
        {count(s.smax)}
      </td>
      <td class="num" data-label="Total">
        {count(s.stot)}
      </td>
      <td class="num" data-label="In">
        {bytes(s.bin)}
      </td>
      <td class="num" data-label="Out">
        {bytes(s.bout)}
      </td>
      <td class={`num${s.econ > 0 ? ' warn' : ''}`} data-label="Econ">
        {count(s.econ)}
      </td>
      <td data-label="Last check" title={s.check_desc || undefined}>
        {s.check_status ? (
          <span class="nowrap">
            {s.check_status}
            {s.check_duration >= 0 ? <span class="muted"> in {ms(s.check_duration)}</span> : null}
            {s.lastCheckAt > 0 && <div class="muted small">{ago(s.lastCheckAt, at)}</div>}
          </span>
        ) : (
          <span class="muted">–</span>
        )}
      </td>
      <td class="num" data-label="Last chg">
        {seconds(s.lastchg)}
      </td>
      <td
        class="num"
        data-label="Down"
        data-testid="down"
        title={`went DOWN ${s.chkdown} time${s.chkdown === 1 ? '' : 's'} (chkdown), ${seconds(s.downtime)} DOWN in all`}
      >
        {s.chkdown > 0 ? (
          // When it went DOWN and why: its health events in the stored log.
          <a href={`#/events?${new URLSearchParams({ type: 'health', backend: s.backend, server: s.name })}`}>
            {s.chkdown}× · {seconds(s.downtime)}
          </a>
        ) : (
          <>
            {s.chkdown}× · {seconds(s.downtime)}
          </>
        )}
      </td>
      <td data-label="Actions" class="actions">
        <div class="segmented" role="group" aria-label={`Admin state of ${s.name}`}>
          {ACTIONS.map((a) => (
            <button
              key={a.state}
              type="button"
              class={`seg seg-${a.state}`}
              aria-pressed={s.adminState === a.state}
              disabled={busy || !mayOperate}
              title={roleHint ?? a.explain}
              onClick={() => setState(a)}
            >
              {a.label}
            </button>
          ))}
        </div>
        <button
          type="button"
          class="danger-outline"
          disabled={busy || !mayOperate || s.scur === 0}
          title={roleHint ?? (s.scur === 0 ? 'no sessions to cut' : `cut ${sessions(s.scur)} now`)}
          onClick={shutdown}
        >
          Cut {s.scur > 0 ? sessions(s.scur) : 'sessions'}
        </button>
        {busy && <span class="spinner" aria-label="working" />}
      </td>
    </tr>
  );
}

function WeightEditor({
  initial,
  onSave,
  onCancel,
}: {
  initial: number;
  onSave: (w: number) => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(String(initial));
  const input = useRef<HTMLInputElement>(null);
  // `autoFocus` does nothing for an element mounted after the page loaded: focus it ourselves, so Escape works.
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const n = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 256;
  return (
    <form
      class="weight-editor"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) onSave(n);
      }}
      onKeyDown={(e) => e.key === 'Escape' && onCancel()}
    >
      <input
        ref={input}
        type="number"
        min={0}
        max={256}
        value={value}
        aria-label="weight"
        aria-invalid={!valid}
        title="0 to 256"
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={!valid}>
        Save
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      {!valid && <span class="field-error">0–256</span>}
    </form>
  );
}

/** "1 session", "3 sessions". */
function sessions(n: number): string {
  return `${count(n)} session${n === 1 ? '' : 's'}`;
}

/** A drain's progress: sessions left, the oldest's age, and for an operation the time left and where it goes next. */
function DrainProgressLine({ server: s }: { server: ServerStats }) {
  const d = s.drain;
  const left = d?.sessionsLeft ?? s.scur;
  const oldest = d?.oldestSessionAgeMs ?? s.oldestSessionAge;
  const total = d && d.deadlineAt !== null ? d.deadlineAt - d.startedAt : 0;
  return (
    <div class="drain-progress small" data-testid="drain-progress">
      <span>{left === 0 ? 'drained — no sessions left' : `${count(left)} left · oldest ${ms(oldest)}`}</span>
      {d && d.deadlineAt !== null && d.timeLeftMs !== null && (
        <span data-testid="drain-time-left">
          {' '}
          ·{' '}
          {d.closedAt !== null
            ? `deadline reached, ${count(d.closed)} closed`
            : `${ms(d.timeLeftMs)} to deadline`}
        </span>
      )}
      {d?.then && <span data-testid="drain-then-state"> → {d.then.toUpperCase()}</span>}
      {total > 0 && d && d.timeLeftMs !== null && (
        <progress
          class="drain-bar"
          max={total}
          value={total - d.timeLeftMs}
          title={`started ${dateTime(d.startedAt)}, deadline ${dateTime(d.deadlineAt ?? 0)}`}
        />
      )}
    </div>
  );
}
