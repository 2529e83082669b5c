import { useState } from 'preact/hooks';
import { ApiError, reasonOf } from '../api.js';
import { showBanner, showFailure } from '../components/banner.js';
import {
  applyImport,
  dryRunImport,
  warningsOf,
  type ImportAdminState,
  type ImportDryRun,
  type ImportWarning,
} from '../import-api.js';
import type { Snapshot } from '../types.js';
import { Review } from './review.js';

/** Why the API refused the file: every problem it named (a problem of the file names its `line N`). */
function refusalOf(err: unknown): string[] {
  if (err instanceof ApiError && err.status !== 412) return err.messages;
  return [reasonOf(err)];
}

/** "Import haproxy.cfg": paste or pick the file, review the dry run with its warnings, then apply it. */
export function ImportHaproxy({
  current,
  revision,
  onCancel,
  onApplied,
}: {
  current: Snapshot;
  revision: number;
  onCancel: () => void;
  /** After an apply (`applied`), or a refused one (the text stays for another try): reload the config in effect. */
  onApplied: (applied: boolean) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const [strict, setStrict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [dryRun, setDryRun] = useState<ImportDryRun | null>(null);
  const [refusal, setRefusal] = useState<string[]>([]);
  const [warnings, setWarnings] = useState<ImportWarning[]>([]);

  function refused(err: unknown) {
    setRefusal(refusalOf(err));
    setWarnings(warningsOf(err));
    showFailure(err, 'Import of haproxy.cfg');
  }

  async function review(e: Event) {
    e.preventDefault();
    setBusy(true);
    setRefusal([]);
    setWarnings([]);
    try {
      const r = await dryRunImport(text, strict);
      setDryRun(r);
      setWarnings(r.warnings);
    } catch (err) {
      refused(err);
    } finally {
      setBusy(false);
    }
  }

  async function apply(message: string) {
    setBusy(true);
    try {
      const r = await applyImport(text, strict, revision, message);
      if (r.changed) showBanner('done', `haproxy.cfg imported — revision ${r.revision}`);
      else showBanner('same', 'the file gives the configuration in effect; no new revision');
      await onApplied(true);
    } catch (err) {
      setDryRun(null);
      refused(err);
      await onApplied(false);
    } finally {
      setBusy(false);
    }
  }

  async function pick(e: Event) {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) setText(await file.text());
  }

  const replaces = (
    <p class="form-error" data-testid="import-replaces">
      <b>The import replaces the whole configuration</b>: the file's TCP frontends, backends and listen
      sections become the config, and every frontend and backend in effect that the file does not have is
      removed.
    </p>
  );

  if (dryRun) {
    return (
      <div class="import-review">
        {replaces}
        <MaintServers states={dryRun.adminStates ?? []} />
        <Warnings warnings={warnings} />
        <Review
          current={current}
          revision={revision}
          candidate={dryRun.config}
          summary="import of haproxy.cfg"
          validation={dryRun}
          busy={busy}
          onBack={() => setDryRun(null)}
          onApply={(message) => void apply(message)}
        />
      </div>
    );
  }

  return (
    <form class="panel editor" onSubmit={review} aria-labelledby="import-title">
      <h2 id="import-title">Import haproxy.cfg</h2>
      {replaces}
      <p class="muted small">
        Nothing is applied yet: you will see the resulting config, its diff, its impact on live traffic and
        everything the import could not carry over (each with its line) before you apply it as one revision.
      </p>
      {refusal.length > 0 && (
        <div class="form-error" role="alert" data-testid="import-refusal">
          <b>The API refused the file:</b>
          <ul>
            {refusal.map((m, i) => (
              <li key={i}>{m}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="field">
        <label for="import-file">haproxy.cfg file</label>
        <input id="import-file" type="file" accept=".cfg,.conf,text/plain" onChange={(e) => void pick(e)} />
      </div>
      <div class="field">
        <label for="import-text">or paste its text</label>
        <textarea
          id="import-text"
          class="mono"
          rows={16}
          style={{ width: '100%' }}
          spellcheck={false}
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
      </div>
      <label class="small">
        <input
          type="checkbox"
          checked={strict}
          onChange={(e) => setStrict((e.target as HTMLInputElement).checked)}
        />{' '}
        Strict: refuse the file instead of leaving out HTTP sections, extra binds or renamed names
      </label>
      <Warnings warnings={warnings} />
      <div class="row-actions">
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
          {busy ? 'Checking…' : 'Review import'}
        </button>
      </div>
    </form>
  );
}

/** Servers the file writes `disabled`: applied, the import puts them in maint (no traffic) with the revision. */
function MaintServers({ states }: { states: ImportAdminState[] }) {
  if (states.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="import-maint-title" data-testid="import-maint">
      <h3 id="import-maint-title">
        {states.length} server{states.length === 1 ? '' : 's'} will be in maint (no traffic)
      </h3>
      <ul>
        {states.map((m) => (
          <li key={`${m.backend}/${m.server}`} data-server={`${m.backend}/${m.server}`}>
            <b>
              {m.backend}/{m.server}
            </b>
            : <code>disabled</code> on line {m.line} of the file. Set it to ready afterwards to send it
            traffic.
          </li>
        ))}
      </ul>
    </section>
  );
}

/** What the import did with each statement it could not carry over as written. */
function Warnings({ warnings }: { warnings: ImportWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="import-warnings-title">
      <h3 id="import-warnings-title">
        {warnings.length} warning{warnings.length === 1 ? '' : 's'} from the file
      </h3>
      <table class="cards" data-testid="import-warnings">
        <thead>
          <tr>
            <th scope="col" class="num">
              Line
            </th>
            <th scope="col">Statement</th>
            <th scope="col">What the import did</th>
          </tr>
        </thead>
        <tbody>
          {warnings.map((w, i) => (
            <tr key={i} data-line={w.line}>
              <td data-label="Line" class="num">
                {w.line > 0 ? w.line : 'file'}
              </td>
              <td data-label="Statement" class="mono">
                {w.text}
              </td>
              <td data-label="What the import did">{w.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
