import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { EditorForm } from '../components/editor-form.js';
import { Field, TextField } from '../components/field.js';
import { unclaimed, type FieldErrors } from '../field-errors.js';
import type { Frontend, Snapshot } from '../types.js';
import {
  durationText,
  inputChecked,
  inputValue,
  num,
  optionalDuration,
  optionalNum,
  str,
  useFieldErrors,
} from './form-values.js';

let nextBindKey = 1;

const CLAIMED = [
  'name',
  'bind.address',
  'bind.port',
  'bind',
  'backend',
  'maxconn',
  'allow',
  'inspect',
  'timeouts',
  'timeouts.client',
  'enabled',
];

export function FrontendForm({
  initial,
  backends,
  defaults,
  errors,
  notes = {},
  warning,
  busy,
  onReview,
  onCancel,
}: {
  initial?: Frontend;
  backends: string[];
  /** What applies where the form leaves a field empty. */
  defaults: Snapshot['defaults'];
  errors: FieldErrors;
  /** Fields whose value would undo another operator's change (after a conflict). */
  notes?: FieldErrors;
  /** Why the form was reloaded (after a conflict). */
  warning?: ComponentChildren;
  busy: boolean;
  onReview: (fe: Frontend) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [address, setAddress] = useState(initial?.bind.address ?? '0.0.0.0');
  const [port, setPort] = useState(str(initial?.bind.port));
  // The frontend's other addresses (`binds` after the first): a list with add and remove.
  const [more, setMore] = useState(
    (initial?.binds ?? [])
      .slice(1)
      .map((b) => ({ key: nextBindKey++, address: b.address, port: str(b.port) })),
  );
  const [backend, setBackend] = useState(initial?.backend ?? backends[0] ?? '');
  const [maxconn, setMaxconn] = useState(str(initial?.maxconn));
  const [allow, setAllow] = useState((initial?.allow ?? []).join('\n'));
  const [inspect, setInspect] = useState(initial?.inspect ?? 'none');
  const [timeoutClient, setTimeoutClient] = useState(durationText(initial?.timeouts?.client));
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  const fe = useFieldErrors(errors);
  const { edit } = fe;

  function submit(e: Event) {
    e.preventDefault();
    const allowList = allow
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean);
    const first = { address: address.trim(), port: num(port) };
    const fe = {
      name: name.trim(),
      // Both, agreeing: `bind` is the first of `binds` (docs/config-model.md).
      bind: first,
      binds: [first, ...more.map((b) => ({ address: b.address.trim(), port: num(b.port) }))],
      backend,
      ...(optionalNum(maxconn) !== undefined ? { maxconn: optionalNum(maxconn) } : {}),
      ...(allowList.length ? { allow: allowList } : {}),
      // Only sent when set, so an untouched form does not add `inspect: none` to the revision.
      ...(inspect !== 'none' || initial?.inspect ? { inspect } : {}),
      // The whole frontend is sent: its own timeouts go back as edited (empty: the defaults').
      ...(optionalDuration(timeoutClient) !== undefined
        ? { timeouts: { client: optionalDuration(timeoutClient) } }
        : {}),
      enabled,
    } as unknown as Frontend;
    onReview(fe);
  }

  const general = unclaimed(errors, CLAIMED, [/^binds(\[\d+\](\.(address|port))?)?$/]);
  // A bind clash (409) names `bind` (or `binds[0]` when there are several): its message sits beside the
  // address, and the port is marked too.
  const bindClash = [...fe.of('bind'), ...fe.of('binds[0]'), ...fe.of('binds')];
  return (
    <EditorForm
      titleId="fe-form-title"
      title={initial ? `Edit frontend ${initial.name}` : 'Add frontend'}
      general={general}
      errors={errors}
      warning={warning}
      busy={busy}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <TextField
          label="Name"
          name="name"
          value={name}
          onValue={edit(setName, 'name')}
          errors={fe.of('name')}
          notes={notes.name}
          hint="letters, digits, _ . - (up to 64)"
          placeholder="eg: cmpp-in"
        />
        <TextField
          label="Bind address"
          name="bind.address"
          value={address}
          onValue={edit(setAddress, 'bind.address', 'bind', 'binds[0]', 'binds')}
          errors={[...fe.of('bind.address'), ...bindClash]}
          notes={notes['bind.address']}
          hint="0.0.0.0, :: or one IP of this host"
          placeholder="eg: 0.0.0.0 or 10.0.0.1 or ::"
        />
        <TextField
          label="Port"
          name="bind.port"
          value={port}
          onValue={edit(setPort, 'bind.port', 'bind', 'binds[0]', 'binds')}
          errors={fe.of('bind.port')}
          notes={notes['bind.port']}
          invalid={bindClash.length > 0}
          hint="1–65535"
          placeholder="eg: 7890"
          numeric
        />
        {more.map((b, i) => {
          const at = `binds[${i + 1}]`;
          const clash = fe.of(at);
          const update = (change: Partial<typeof b>) =>
            setMore((list) => list.map((x) => (x.key === b.key ? { ...x, ...change } : x)));
          return (
            <div class="bind-editor form-grid" key={b.key} data-bind-row={i + 1}>
              <TextField
                label={`Bind address ${i + 2}`}
                name={`${at}.address`}
                value={b.address}
                onValue={edit((address: string) => update({ address }), `${at}.address`, at)}
                errors={[...fe.of(`${at}.address`), ...clash]}
                placeholder="eg: 10.0.0.2"
              />
              <TextField
                label={`Port ${i + 2}`}
                name={`${at}.port`}
                value={b.port}
                onValue={edit((port: string) => update({ port }), `${at}.port`, at)}
                errors={fe.of(`${at}.port`)}
                invalid={clash.length > 0}
                numeric
              />
              <div class="field">
                <span>&nbsp;</span>
                <button
                  type="button"
                  class="danger-outline"
                  onClick={() => setMore((list) => list.filter((x) => x.key !== b.key))}
                >
                  Remove bind {i + 2}
                </button>
              </div>
            </div>
          );
        })}
        <button
          type="button"
          data-testid="add-bind"
          onClick={() =>
            setMore((list) => [...list, { key: nextBindKey++, address: address.trim(), port: '' }])
          }
        >
          Add bind
        </button>
        <Field label="Backend" errors={fe.of('backend')} notes={notes.backend}>
          {(p) => (
            <select
              {...p}
              name="backend"
              value={backend}
              onChange={(e) => edit(setBackend, 'backend')(inputValue(e))}
            >
              {backends.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Max connections"
          name="maxconn"
          value={maxconn}
          onValue={edit(setMaxconn, 'maxconn')}
          errors={fe.of('maxconn')}
          notes={notes.maxconn}
          hint={`empty: no limit of its own (defaults.maxconn ${defaults.maxconn} caps all frontends together)`}
          placeholder="eg: 10000"
          numeric
        />
        <TextField
          label="Timeout client"
          name="timeouts.client"
          value={timeoutClient}
          onValue={edit(setTimeoutClient, 'timeouts.client')}
          errors={fe.of('timeouts.client')}
          notes={notes['timeouts.client']}
          hint={`empty: defaults.timeouts.client (${durationText(defaults.timeouts.client)}); idle limit on the client side`}
          placeholder="eg: 30s"
        />
        <Field
          label="Inspect"
          errors={fe.of('inspect')}
          notes={notes.inspect}
          hint="cmpp: per-account statistics"
        >
          {(p) => (
            <select
              {...p}
              name="inspect"
              value={inspect}
              onChange={(e) => edit(setInspect, 'inspect')(inputValue(e) as Frontend['inspect'] & string)}
            >
              <option value="none">none</option>
              <option value="cmpp">cmpp</option>
            </select>
          )}
        </Field>
        <Field
          label="Allow (CIDR, one per line)"
          errors={fe.of('allow')}
          notes={notes.allow}
          hint="empty: everyone"
        >
          {(p) => (
            <textarea
              {...p}
              name="allow"
              rows={3}
              value={allow}
              placeholder="eg: 10.0.0.0/8"
              onInput={(e) => edit(setAllow, 'allow')(inputValue(e))}
            />
          )}
        </Field>
        <Field
          label="Enabled"
          errors={fe.of('enabled')}
          notes={notes.enabled}
          hint="disabled: the listener closes, sessions are kept"
        >
          {(p) => (
            <input
              {...p}
              type="checkbox"
              name="enabled"
              checked={enabled}
              onChange={(e) => edit(setEnabled, 'enabled')(inputChecked(e))}
            />
          )}
        </Field>
      </div>
    </EditorForm>
  );
}
