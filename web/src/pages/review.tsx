import { useEffect, useRef, useState } from 'preact/hooks';
import { ChangeList, SideBySide } from '../components/diff-view.js';
import type { Validation } from '../config-api.js';
import { parseUnified } from '../diff.js';
import { count, percent } from '../format.js';
import { isHashed, type ImpactReport, type Snapshot } from '../types.js';

/** The last step before a change goes live: what changes, what it does to live traffic, and why. */
export function Review({
  current,
  revision,
  candidate,
  summary,
  validation,
  busy,
  applyLabel = 'Apply change',
  candidateLabel = 'candidate',
  note,
  onBack,
  onApply,
}: {
  current: Snapshot;
  revision?: number;
  candidate: Snapshot;
  summary: string;
  validation: Validation;
  busy: boolean;
  /** The apply button's text ("Roll back to revision 3"). */
  applyLabel?: string;
  /** What the right side of the diff is ("revision 3"). */
  candidateLabel?: string;
  /** A line about what this kind of change leaves alone. */
  note?: string;
  onBack: () => void;
  onApply: (message: string) => void;
}) {
  const [message, setMessage] = useState('');
  // The review starts on Back, like a destructive dialog on Cancel: Enter twice from the button that
  // opened it applies nothing.
  const back = useRef<HTMLButtonElement>(null);
  useEffect(() => back.current?.focus(), []);
  const [view, setView] = useState<'fields' | 'side'>('fields');
  const changes = validation.changes;
  const ops = parseUnified(validation.text);
  const nothing = changes.length === 0;

  return (
    <form
      class="panel review"
      aria-labelledby="review-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!nothing) onApply(message);
      }}
    >
      <h2 id="review-title">Review: {summary}</h2>
      <p class="muted small">
        The API accepted this candidate in a dry run; nothing is applied yet. Based on revision{' '}
        {revision ?? '–'}.{note ? ` ${note}` : ''}
      </p>
      <h3>Impact on live traffic</h3>
      <Impact impact={validation.impact} current={current} candidate={candidate} />
      <h3>
        Changes{' '}
        <span class="tabs" role="group" aria-label="Diff view">
          <button type="button" aria-pressed={view === 'fields'} onClick={() => setView('fields')}>
            Fields
          </button>
          <button type="button" aria-pressed={view === 'side'} onClick={() => setView('side')}>
            Side by side
          </button>
        </span>
      </h3>
      {view === 'fields' ? (
        <ChangeList changes={changes} />
      ) : (
        <SideBySide ops={ops} left={`revision ${revision ?? 'current'}`} right={candidateLabel} />
      )}
      <div class="field" style={{ marginTop: '0.8rem' }}>
        <span>
          <label for="change-message">Change message (optional, stored on the revision)</label>
        </span>
        <input
          id="change-message"
          name="message"
          maxLength={500}
          value={message}
          placeholder="eg: add smsc3 for the evening peak"
          onInput={(e) => setMessage((e.target as HTMLInputElement).value)}
        />
      </div>
      <div class="row-actions">
        <button type="button" ref={back} onClick={onBack} disabled={busy}>
          Back
        </button>
        <button type="submit" class="primary" disabled={busy || nothing}>
          {busy ? 'Applying…' : nothing ? 'Nothing to apply' : applyLabel}
        </button>
      </div>
    </form>
  );
}

/** Backends hashed now and not in the candidate: the API's rehash count skips them, yet their clients move. */
function unpinned(current: Snapshot, candidate: Snapshot): Array<{ backend: string; balance: string }> {
  const after = new Map(candidate.backends.map((b) => [b.name, b]));
  return current.backends.flatMap((b) => {
    const next = after.get(b.name);
    return next && isHashed(b.balance) && !isHashed(next.balance)
      ? [{ backend: b.name, balance: next.balance }]
      : [];
  });
}

export function Impact({
  impact,
  current,
  candidate,
}: {
  impact?: ImpactReport;
  current: Snapshot;
  candidate: Snapshot;
}) {
  if (!impact) return <p class="muted">The API sent no impact report for this change.</p>;
  const items = [
    ...impact.listenersOpened.map((l) => (
      <li key={`o${l.frontend}`}>
        Opens listener <b>{l.frontend}</b> on{' '}
        <code>
          {l.address}:{l.port}
        </code>
        : new connections accepted at once.
      </li>
    )),
    ...impact.listenersClosed.map((l) => (
      <li key={`c${l.frontend}${l.port}`}>
        Closes listener <b>{l.frontend}</b> on{' '}
        <code>
          {l.address}:{l.port}
        </code>
        : no new connections; <b>{count(l.sessions)}</b> current session{l.sessions === 1 ? '' : 's'} kept
        until they end.
      </li>
    )),
    ...impact.serversRemoved.map((s) => (
      <li key={`r${s.backend}/${s.server}`}>
        Removes server{' '}
        <b>
          {s.backend}/{s.server}
        </b>
        : <b>{count(s.sessions)}</b> current session{s.sessions === 1 ? '' : 's'} kept until they end (cut
        them from the overview if needed).
      </li>
    )),
    ...impact.rehashed
      .filter((r) => r.moved > 0 || r.clients > 0)
      .map((r) => (
        <li key={`h${r.backend}`} class={r.share > 0.34 ? 'warn' : ''}>
          Backend <b>{r.backend}</b>: <b>{percent(r.share)}</b> of current clients ({count(r.moved)} of{' '}
          {count(r.clients)}) would reach a different server on their next connection; open connections stay
          where they are.
        </li>
      )),
    ...unpinned(current, candidate).map((u) => (
      <li key={`u${u.backend}`}>
        Backend <b>{u.backend}</b> stops hashing: its clients lose their source pinning, and new connections
        are spread by <b>{u.balance}</b>; open connections stay where they are.
      </li>
    )),
  ];
  if (items.length === 0)
    return (
      <p data-testid="impact">
        No listener opens or closes, no server with sessions is removed, no client moves.
      </p>
    );
  return (
    <ul class="impact" data-testid="impact">
      {items}
    </ul>
  );
}
