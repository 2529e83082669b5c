import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError, seg } from '../api.js';
import { showBanner, showFailure } from '../components/banner.js';
import { confirmAction } from '../components/confirm.js';
import {
  applyChange,
  loadConfig,
  validateCandidate,
  type ChangeRequest,
  type CurrentConfig,
  type Validation,
} from '../config-api.js';
import { fieldErrorsOf, scoped, type FieldErrors } from '../field-errors.js';
import { refreshNow } from '../live.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import { listRevisions, revisionChanges } from '../revisions-api.js';
import { isHashed, type Backend, type Frontend, type Revision, type Snapshot } from '../types.js';
import { BackendForm, checkExtras } from './backend-form.js';
import { DefaultsForm } from './defaults-form.js';
import { durationText } from './form-values.js';
import { FrontendForm } from './frontend-form.js';
import { describeOverwrite, rebase, type Overwrite } from './rebase.js';
import { ImportHaproxy } from './import-haproxy.js';
import { Review } from './review.js';

/** What a form was opened on (`base`, for re-applying its edits after a conflict) and left with (`draft`). */
interface Rebased {
  /** The revision `base` was read from. */
  baseRevision?: number;
  /** Fields whose value would undo another operator's change, with the message to show beside them. */
  notes?: FieldErrors;
  /** Why the form was reloaded (after a conflict). */
  warning?: ComponentChildren;
}
type Editing =
  | ({ kind: 'frontend'; original: string | null; base?: Frontend; draft?: Frontend } & Rebased)
  | ({ kind: 'backend'; original: string | null; base?: Backend; draft?: Backend } & Rebased)
  | ({
      kind: 'defaults';
      original: null;
      base?: Snapshot['defaults'];
      draft?: Snapshot['defaults'];
    } & Rebased);

interface Reviewing {
  candidate: Snapshot;
  summary: string;
  validation: Validation;
  back?: Editing;
  prefixes: string[];
  change: ChangeRequest;
}

/** Frontends, backends and servers: edit a copy, review its diff and impact, then apply it as one revision. */
export function ConfigPage() {
  const user = useStore(currentUser);
  const [config, setConfig] = useState<CurrentConfig | null>(null);
  const [loadError, setLoadError] = useState('');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [reviewing, setReviewing] = useState<Reviewing | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  /** A backend whose removal was asked for while frontends still use it. */
  const [inUse, setInUse] = useState<{ backend: string; frontends: string[] } | null>(null);
  const mayEdit = can(user, 'admin');
  /** Leaves a form without reviewing: its draft and the API's messages about it go. */
  const closeEditor = () => {
    setEditing(null);
    setErrors({});
  };

  const reload = () =>
    loadConfig()
      .then((c) => {
        setConfig(c);
        setLoadError('');
      })
      .catch((e) => setLoadError(describeError(e)));
  useEffect(() => {
    void reload();
  }, []);

  if (loadError) return <p class="form-error">Cannot load the configuration: {loadError}</p>;
  if (!config) return <p class="muted">Loading configuration…</p>;
  const snap = config.snapshot;

  /** Dry run; on failure stay on the form with the API's messages beside the fields. */
  async function review(
    candidate: Snapshot,
    summary: string,
    change: ChangeRequest,
    back: Editing | undefined,
    prefixes: string[],
  ) {
    setBusy(true);
    setErrors({});
    try {
      const validation = await validateCandidate(candidate);
      setReviewing({ candidate, summary, validation, back, prefixes, change });
      setEditing(null);
    } catch (err) {
      const fe = scoped(fieldErrorsOf(err), prefixes);
      setErrors(fe);
      if (!back) showFailure(err);
    } finally {
      setBusy(false);
    }
  }

  async function apply(message: string) {
    if (!reviewing) return;
    setBusy(true);
    try {
      const r = await applyChange(reviewing.change, config?.revision, message);
      if (r.changed)
        showBanner(
          'done',
          `${reviewing.summary}${r.revision !== undefined ? ` — revision ${r.revision}` : ''}`,
        );
      else showBanner('same', `${reviewing.summary}: the configuration already said so; no new revision`);
      setReviewing(null);
      setErrors({});
      await reload();
      refreshNow();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412 && reviewing.back) {
        // Someone applied a revision meanwhile: reload the form from it with this operator's edits re-applied.
        setErrors({});
        setEditing(await rebaseAfterConflict(reviewing.back));
        setReviewing(null);
        return;
      }
      showFailure(err);
      if (reviewing.back) {
        setErrors(scoped(fieldErrorsOf(err), reviewing.prefixes));
        setEditing(reviewing.back);
        setReviewing(null);
      }
      await reload();
    } finally {
      setBusy(false);
    }
  }

  /** The new head, the form's draft re-applied to it, and a mark on every field that would undo the other change. */
  async function rebaseAfterConflict(back: Editing): Promise<Editing> {
    const fresh = await loadConfig();
    setConfig(fresh);
    const theirs = itemOf(fresh.snapshot, back);
    if (back.base === undefined || back.draft === undefined || theirs === undefined) {
      return {
        ...back,
        baseRevision: fresh.revision,
        warning: `Revision ${fresh.revision} was applied while you were editing; your form is kept as you left it. Review again.`,
      } as Editing;
    }
    const { merged, overwrites } =
      back.kind === 'frontend'
        ? rebaseFrontend(back.base as Frontend, back.draft as Frontend, theirs as Frontend)
        : rebase<unknown>(back.base, back.draft, theirs);
    const since = back.baseRevision ?? 0;
    const authors = await whoChanged(prefixOf(back), overwrites, since, fresh.revision);
    const notes: FieldErrors = {};
    const marks: string[] = [];
    for (const o of overwrites) {
      const r = authors.get(o.path);
      const by = r ? `revision ${r.id} by ${r.author}` : `a revision after ${since}`;
      const mark = `undoes ${by}: ${describeOverwrite(o)}`;
      // A frontend's addresses merge as one list: the mark goes beside the first one.
      const key = back.kind === 'frontend' && o.path === 'binds' ? 'bind.port' : o.path;
      (notes[key] ??= []).push(mark);
      marks.push(`${o.path}: ${mark}`);
    }
    const newer = authors.size > 0 ? [...new Set([...authors.values()].map((r) => r.id))] : [];
    const what = newer.length ? `Revision ${newer.join(', ')}` : `Revision ${fresh.revision}`;
    return {
      ...back,
      base: theirs,
      draft: merged,
      baseRevision: fresh.revision,
      notes,
      warning: (
        <>
          {`${what} was applied by someone else while you were editing. The form now shows revision ${fresh.revision} ` +
            `with your edits re-applied` +
            (overwrites.length
              ? `; ${overwrites.length} of your edits would undo that change (marked below): keep them only if you mean to.`
              : '; none of them undoes that change.') +
            ' Review again to apply.'}
          {marks.length > 0 && (
            <ul>
              {marks.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </>
      ),
    } as Editing;
  }

  if (importing) {
    return (
      <ImportHaproxy
        current={snap}
        revision={config.revision}
        onCancel={() => setImporting(false)}
        onApplied={async (applied) => {
          if (applied) setImporting(false);
          await reload();
          refreshNow();
        }}
      />
    );
  }

  if (reviewing) {
    return (
      <Review
        current={snap}
        revision={config.revision}
        candidate={reviewing.candidate}
        summary={reviewing.summary}
        validation={reviewing.validation}
        busy={busy}
        onBack={() => {
          setEditing(reviewing.back ?? null);
          setReviewing(null);
        }}
        onApply={apply}
      />
    );
  }

  if (editing?.kind === 'defaults') {
    return (
      <DefaultsForm
        key={editing.baseRevision}
        initial={editing.draft ?? snap.defaults}
        errors={errors}
        notes={editing.notes}
        warning={editing.warning}
        busy={busy}
        onCancel={closeEditor}
        onReview={(defaults) => {
          const candidate = { ...snap, defaults };
          void review(
            candidate,
            'defaults changed',
            // The whole document as read, defaults changed (masked secrets keep the stored ones).
            { method: 'PUT', path: '/config', body: candidate },
            { ...editing, draft: defaults },
            ['defaults.'],
          );
        }}
      />
    );
  }

  if (editing?.kind === 'frontend') {
    const index =
      editing.original === null
        ? snap.frontends.length
        : snap.frontends.findIndex((f) => f.name === editing.original);
    return (
      <FrontendForm
        key={editing.baseRevision}
        initial={editing.draft ?? snap.frontends[index]}
        backends={snap.backends.map((b) => b.name)}
        defaults={snap.defaults}
        errors={errors}
        notes={editing.notes}
        warning={editing.warning}
        busy={busy}
        onCancel={closeEditor}
        onReview={(fe) => {
          const frontends = [...snap.frontends];
          frontends.splice(index, editing.original === null ? 0 : 1, fe);
          const back = { ...editing, draft: fe };
          const change: ChangeRequest =
            editing.original === null
              ? { method: 'POST', path: '/frontends', body: fe }
              : { method: 'PUT', path: `/frontends/${seg(editing.original)}`, body: fe };
          void review(
            { ...snap, frontends },
            editing.original === null ? `frontend ${fe.name} added` : `frontend ${fe.name} changed`,
            change,
            back,
            [`frontends[${index}].`],
          );
        }}
      />
    );
  }

  if (editing?.kind === 'backend') {
    const index =
      editing.original === null
        ? snap.backends.length
        : snap.backends.findIndex((b) => b.name === editing.original);
    return (
      <BackendForm
        key={editing.baseRevision}
        initial={editing.draft ?? snap.backends[index]}
        defaults={snap.defaults}
        errors={errors}
        notes={editing.notes}
        warning={editing.warning}
        busy={busy}
        onCancel={closeEditor}
        onReview={(be) => {
          const backends = [...snap.backends];
          backends.splice(index, editing.original === null ? 0 : 1, be);
          // A renamed backend keeps its frontends.
          const frontends =
            editing.original && editing.original !== be.name
              ? snap.frontends.map((f) => (f.backend === editing.original ? { ...f, backend: be.name } : f))
              : snap.frontends;
          const back = { ...editing, draft: be };
          const change: ChangeRequest =
            editing.original === null
              ? { method: 'POST', path: '/backends', body: be }
              : { method: 'PUT', path: `/backends/${seg(editing.original)}`, body: be };
          void review(
            { ...snap, frontends, backends },
            editing.original === null ? `backend ${be.name} added` : `backend ${be.name} changed`,
            change,
            back,
            [`backends[${index}].`],
          );
        }}
      />
    );
  }

  async function remove(kind: 'frontend' | 'backend', name: string) {
    const users =
      kind === 'backend' ? snap.frontends.filter((f) => f.backend === name).map((f) => f.name) : [];
    // The API would refuse: say who uses it, and offer no removal to review.
    if (users.length > 0) {
      setInUse({ backend: name, frontends: users });
      return;
    }
    setInUse(null);
    const ok = await confirmAction({
      title: `Remove ${kind} ${name}?`,
      body: <p>You will see the change and its impact on live traffic before anything is applied.</p>,
      action: `Review removal of ${name}`,
    });
    if (!ok) return;
    const candidate =
      kind === 'frontend'
        ? { ...snap, frontends: snap.frontends.filter((f) => f.name !== name) }
        : { ...snap, backends: snap.backends.filter((b) => b.name !== name) };
    await review(
      candidate,
      `${kind} ${name} removed`,
      { method: 'DELETE', path: `/${kind}s/${seg(name)}` },
      undefined,
      [],
    );
  }

  function editItem(kind: 'frontend' | 'backend', item: Frontend | Backend) {
    setInUse(null);
    setEditing({ kind, original: item.name, base: item, baseRevision: config?.revision } as Editing);
  }

  const d = snap.defaults;
  return (
    <div class="config">
      <p class="muted small">
        Current revision: <b>{config.revision ?? '–'}</b>. Every change is reviewed (diff and impact on live
        traffic) before it is applied as a new revision; a config change never cuts a connection.
        {!mayEdit && ' Your role can read the configuration; changes need the admin role.'}{' '}
        <a href="/api/v1/export/haproxy.cfg" download={`tether-r${config.revision ?? 0}.cfg`}>
          Download as haproxy.cfg
        </a>{' '}
        <button type="button" disabled={!mayEdit || busy} onClick={() => setImporting(true)}>
          Import haproxy.cfg
        </button>
      </p>
      <section class="panel" data-testid="defaults">
        <h2>Defaults</h2>
        <p>
          Global max connections <b>{d.maxconn}</b> · timeout connect{' '}
          <b>{durationText(d.timeouts.connect)}</b> · client <b>{durationText(d.timeouts.client)}</b> · server{' '}
          <b>{durationText(d.timeouts.server)}</b> · check <b>{durationText(d.timeouts.check)}</b>
          {d.timeouts.tunnel !== undefined ? (
            <>
              {' '}
              · tunnel <b>{durationText(d.timeouts.tunnel)}</b>
            </>
          ) : null}{' '}
          · session logs to syslog{' '}
          <b data-testid="syslog-target">
            {d.log ? `${d.log.address}:${d.log.port} ${d.log.facility}` : 'none in the config'}
          </b>{' '}
          <button
            type="button"
            disabled={!mayEdit}
            onClick={() =>
              setEditing({ kind: 'defaults', original: null, base: d, baseRevision: config?.revision })
            }
          >
            Edit defaults
          </button>
        </p>
      </section>
      <section class="panel">
        <h2>Frontends</h2>
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Bind</th>
                <th scope="col">Backend</th>
                <th scope="col" class="num">
                  Max conn
                </th>
                <th scope="col">Allow</th>
                <th scope="col">Inspect</th>
                <th scope="col">Enabled</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {snap.frontends.map((f) => (
                <tr key={f.name} data-frontend={f.name}>
                  <th scope="row">{f.name}</th>
                  <td data-label="Bind" class="mono">
                    {(f.binds ?? [f.bind]).map((b) => `${b.address}:${b.port}`).join(', ')}
                  </td>
                  <td data-label="Backend">{f.backend}</td>
                  <td data-label="Max conn" class="num">
                    {f.maxconn ?? <span class="muted">none of its own (global {d.maxconn})</span>}
                  </td>
                  <td data-label="Allow" class="mono small">
                    {f.allow?.length ? f.allow.join(', ') : <span class="muted">everyone</span>}
                  </td>
                  <td data-label="Inspect">
                    {f.inspect ?? 'none'}
                    {f.timeouts !== undefined ? (
                      <span class="muted small"> · timeouts: {timeoutsText(f.timeouts)}</span>
                    ) : null}
                  </td>
                  <td data-label="Enabled">{f.enabled ? 'yes' : <b>disabled</b>}</td>
                  <td data-label="Actions">
                    <ItemActions
                      mayEdit={mayEdit}
                      busy={busy}
                      onEdit={() => editItem('frontend', f)}
                      onRemove={() => remove('frontend', f.name)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <button
          type="button"
          class="primary"
          disabled={!mayEdit || snap.backends.length === 0}
          onClick={() => setEditing({ kind: 'frontend', original: null })}
        >
          Add frontend
        </button>
        {snap.backends.length === 0 && <span class="muted small"> (add a backend first)</span>}
      </section>
      <section class="panel">
        <h2>Backends and servers</h2>
        {inUse && (
          <div class="form-error in-use" role="alert" data-testid="in-use">
            Backend <b>{inUse.backend}</b> can't be removed: used by{' '}
            {inUse.frontends.length === 1 ? 'frontend' : 'frontends'}{' '}
            {inUse.frontends.map((name, i) => (
              <span key={name}>
                {i > 0 && ', '}
                <a
                  href={`#/config?frontend=${encodeURIComponent(name)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    const f = snap.frontends.find((x) => x.name === name);
                    if (f) editItem('frontend', f);
                  }}
                >
                  {name}
                </a>
              </span>
            ))}
            . Point {inUse.frontends.length === 1 ? 'it' : 'them'} at another backend (or remove{' '}
            {inUse.frontends.length === 1 ? 'it' : 'them'}) first.{' '}
            <button type="button" class="link-button" onClick={() => setInUse(null)}>
              Dismiss
            </button>
          </div>
        )}
        {snap.backends.map((b) => (
          <div key={b.name} class="backend-summary" data-backend={b.name}>
            <h3>
              {b.name}{' '}
              <span class="muted small">
                {b.balance}
                {isHashed(b.balance) ? ` (${b.hashType})` : ''} · check {b.check.type}
                {b.check.type !== 'none'
                  ? ` every ${durationText(b.check.inter)}, fall ${b.check.fall}, rise ${b.check.rise}, timeout ${durationText(b.check.timeout ?? d.timeouts.check)}${b.check.timeout === undefined ? ' (default)' : ''}`
                  : ''}
                {b.check.type !== 'none' && checkExtras(b.check, b.servers)
                  ? ` (${checkExtras(b.check, b.servers)})`
                  : ''}{' '}
                · proxy {b.sendProxy} · on down: {b.onMarkedDown} · {retriesText(b)}
                {b.timeouts !== undefined ? ` · timeouts: ${timeoutsText(b.timeouts)}` : ''}
                {b.cmpp !== undefined ? ` · CMPP limits: ${cmppLimitsText(b.cmpp)}` : ''}
              </span>{' '}
              <ItemActions
                mayEdit={mayEdit}
                busy={busy}
                onEdit={() => editItem('backend', b)}
                onRemove={() => remove('backend', b.name)}
              />
            </h3>
            <div class="table-wrap">
              <table class="cards">
                <thead>
                  <tr>
                    <th scope="col">Server</th>
                    <th scope="col">Address</th>
                    <th scope="col" class="num">
                      Weight
                    </th>
                    <th scope="col" class="num">
                      Max conn
                    </th>
                    <th scope="col">Backup</th>
                    <th scope="col">Checked</th>
                  </tr>
                </thead>
                <tbody>
                  {b.servers.map((s) => (
                    <tr key={s.name}>
                      <th scope="row">{s.name}</th>
                      <td data-label="Address" class="mono">
                        {s.address}:{s.port}
                      </td>
                      <td data-label="Weight" class="num">
                        {s.weight}
                      </td>
                      <td data-label="Max conn" class="num">
                        {s.maxconn ?? <span class="muted">–</span>}
                      </td>
                      <td data-label="Backup">{s.backup ? 'backup' : 'no'}</td>
                      <td data-label="Checked">
                        {s.check ? 'yes' : 'no'}
                        {s.checkPort !== undefined ? ` (port ${s.checkPort})` : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        ))}
        <button
          type="button"
          class="primary"
          disabled={!mayEdit}
          onClick={() => setEditing({ kind: 'backend', original: null })}
        >
          Add backend
        </button>
      </section>
    </div>
  );
}

/** Edit and Remove for one frontend or backend; Remove also waits while a change is being made. */
function ItemActions({
  mayEdit,
  busy,
  onEdit,
  onRemove,
}: {
  mayEdit: boolean;
  busy: boolean;
  onEdit: () => void;
  onRemove: () => void;
}) {
  return (
    <>
      <button type="button" disabled={!mayEdit} onClick={onEdit}>
        Edit
      </button>{' '}
      <button type="button" class="danger-outline" disabled={!mayEdit || busy} onClick={onRemove}>
        Remove
      </button>
    </>
  );
}

/** The item a form edits, as it is in `snapshot` (undefined when it is gone). */
function itemOf(snapshot: Snapshot, editing: Editing): unknown {
  if (editing.kind === 'defaults') return snapshot.defaults;
  const list: Array<{ name: string }> = editing.kind === 'frontend' ? snapshot.frontends : snapshot.backends;
  return list.find((x) => x.name === editing.original);
}

/** Where the form's item sits in the API's diff paths. */
function prefixOf(editing: Editing): string {
  return editing.kind === 'defaults' ? 'defaults.' : `${editing.kind}s[${editing.original}].`;
}

/** `bind` is always the first of `binds` (docs/config-model.md): merge `binds`, then derive `bind`. */
function rebaseFrontend(base: Frontend, mine: Frontend, theirs: Frontend) {
  const withoutBind = ({ bind: _bind, ...rest }: Frontend) => rest;
  const { merged, overwrites } = rebase(withoutBind(base), withoutBind(mine), withoutBind(theirs));
  const binds = (merged as Frontend).binds;
  return { merged: { ...merged, bind: binds[0], binds } as Frontend, overwrites };
}

/**
 * For each overwritten field, the newest revision after `since` that changed it (its author names the
 * other operator). Reads at most 10 revisions' diffs.
 */
async function whoChanged(
  prefix: string,
  overwrites: Overwrite[],
  since: number,
  head: number,
): Promise<Map<string, Revision>> {
  const found = new Map<string, Revision>();
  if (overwrites.length === 0) return found;
  try {
    const newer = (await listRevisions()).filter((r) => r.id > since && r.id <= head).slice(0, 10);
    for (const r of newer) {
      const changes = await revisionChanges(r.id);
      for (const o of overwrites) {
        if (found.has(o.path)) continue;
        const full = prefix + o.path;
        if (
          changes.some(
            (c) =>
              c.path === full ||
              c.path.startsWith(`${full}.`) ||
              full.startsWith(`${c.path}.`) ||
              full.startsWith(`${c.path}[`),
          )
        )
          found.set(o.path, r);
      }
      if (found.size === overwrites.length) break;
    }
  } catch {
    // The marks still say what would be undone, without the author.
  }
  return found;
}

/** A backend's CMPP caps and login rates in one line (docs/cmpp-session-control.md). */
function cmppLimitsText(cmpp: NonNullable<Backend['cmpp']>): string {
  const rate = (r: { logins: number; per: number }) => `${r.logins}/${durationText(r.per)}`;
  const parts: string[] = [];
  if (cmpp.maxConnectionsPerAccount !== undefined) parts.push(`${cmpp.maxConnectionsPerAccount} per account`);
  if (cmpp.loginRate?.perAccount) parts.push(`logins ${rate(cmpp.loginRate.perAccount)} per account`);
  if (cmpp.loginRate?.perSource) parts.push(`logins ${rate(cmpp.loginRate.perSource)} per source`);
  if (cmpp.accounts?.length) parts.push(`${cmpp.accounts.length} account override(s)`);
  return parts.join(', ');
}

/** "retries 3, redispatch" (the defaults: 1 and redispatch). */
function retriesText(b: Backend): string {
  const n = b.retries ?? 1;
  const redispatch = b.redispatch ?? true;
  return `retries ${n}${n > 0 ? (redispatch ? ', redispatch' : ', no redispatch') : ''}`;
}

/** A section's own timeouts: "client 30s", "connect 2s, tunnel 1h". */
function timeoutsText(t: object): string {
  return Object.entries(t as Record<string, number | undefined>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${durationText(v)}`)
    .join(', ');
}
