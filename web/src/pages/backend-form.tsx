import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { EditorForm } from '../components/editor-form.js';
import { Field, TextField } from '../components/field.js';
import { unclaimed, type FieldErrors } from '../field-errors.js';
import { isHashed, type Backend, type BackendCheck, type Server, type Snapshot } from '../types.js';
import {
  duration,
  durationText,
  inputChecked,
  inputValue,
  num,
  optionalDuration,
  optionalNum,
  str,
  useFieldErrors,
} from './form-values.js';
import './forms.css';

interface ServerDraft {
  key: number;
  name: string;
  address: string;
  port: string;
  weight: string;
  maxconn: string;
  backup: boolean;
  check: boolean;
  /** Not edited here: kept as stored (HAProxy's `port`, where checks connect). */
  checkPort?: number;
}

let nextKey = 1;
const toDraft = (s: Server): ServerDraft => ({
  key: nextKey++,
  name: s.name,
  address: s.address,
  port: str(s.port),
  weight: str(s.weight),
  maxconn: str(s.maxconn),
  backup: s.backup,
  check: s.check,
  checkPort: s.checkPort,
});

/**
 * The check settings the form shows but does not edit (REST, the config document or an imported haproxy.cfg set
 * them), e.g. "tcp-check, 2 steps, fastinter 500ms, check port 6380"; empty when there are none.
 */
export function checkExtras(check: BackendCheck | undefined, servers: Array<{ checkPort?: number }>): string {
  const parts: string[] = [];
  const steps = check?.steps?.length ?? 0;
  if (check?.type === 'tcp' && steps > 0) parts.push(`tcp-check, ${steps} step${steps === 1 ? '' : 's'}`);
  if (check?.fastinter !== undefined) parts.push(`fastinter ${durationText(check.fastinter)}`);
  if (check?.downinter !== undefined) parts.push(`downinter ${durationText(check.downinter)}`);
  const ports = [...new Set(servers.flatMap((s) => (s.checkPort === undefined ? [] : [s.checkPort])))];
  if (ports.length === 1) parts.push(`port ${ports[0]}`);
  else if (ports.length > 1) parts.push(`ports ${ports.join(', ')}`);
  return parts.join(', ');
}

const BACKEND_FIELDS = [
  'name',
  'balance',
  'hashType',
  'sendProxy',
  'onMarkedDown',
  'retries',
  'redispatch',
  'timeouts',
  'timeouts.connect',
  'timeouts.server',
  'timeouts.tunnel',
  'servers',
];

export function BackendForm({
  initial,
  defaults,
  errors,
  notes = {},
  warning,
  busy,
  onReview,
  onCancel,
}: {
  initial?: Backend;
  /** What applies where the form leaves a field empty. */
  defaults: Snapshot['defaults'];
  errors: FieldErrors;
  /** Fields whose value would undo another operator's change (after a conflict). */
  notes?: FieldErrors;
  /** Why the form was reloaded (after a conflict). */
  warning?: ComponentChildren;
  busy: boolean;
  onReview: (be: Backend) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [balance, setBalance] = useState<Backend['balance']>(initial?.balance ?? 'source');
  const [hashType, setHashType] = useState<string>(initial?.hashType ?? 'consistent');
  const [checkType, setCheckType] = useState<string>(initial?.check.type ?? 'tcp');
  const [inter, setInter] = useState(durationText(initial?.check.inter ?? 5000));
  const [fall, setFall] = useState(str(initial?.check.fall ?? 3));
  const [rise, setRise] = useState(str(initial?.check.rise ?? 2));
  const [timeout, setTimeout_] = useState(durationText(initial?.check.timeout));
  const [sourceAddr, setSourceAddr] = useState(initial?.check.cmpp?.sourceAddr ?? '');
  const [secret, setSecret] = useState(initial?.check.cmpp?.secret ?? '');
  const [version, setVersion] = useState<string>(initial?.check.cmpp?.version ?? '2.0');
  const [sendProxy, setSendProxy] = useState<string>(initial?.sendProxy ?? 'none');
  const [onMarkedDown, setOnMarkedDown] = useState<string>(initial?.onMarkedDown ?? 'keep');
  const [closeTimeout, setCloseTimeout] = useState(durationText(initial?.cmpp?.closeTimeout));
  const [retries, setRetries] = useState(str(initial?.retries));
  const [redispatch, setRedispatch] = useState(
    str(initial?.redispatch === undefined ? '' : String(initial.redispatch)),
  );
  const [timeoutConnect, setTimeoutConnect] = useState(durationText(initial?.timeouts?.connect));
  const [timeoutServer, setTimeoutServer] = useState(durationText(initial?.timeouts?.server));
  const [timeoutTunnel, setTimeoutTunnel] = useState(durationText(initial?.timeouts?.tunnel));
  const [servers, setServers] = useState<ServerDraft[]>((initial?.servers ?? []).map(toDraft));

  const fe = useFieldErrors(errors);
  const { edit } = fe;
  const update = (key: number, patch: Partial<ServerDraft>, field: string) => {
    setServers((list) => list.map((s) => (s.key === key ? { ...s, ...patch } : s)));
    fe.edited(field);
  };

  function submit(e: Event) {
    e.preventDefault();
    const check: Record<string, unknown> = {
      type: checkType,
      inter: duration(inter),
      fall: num(fall),
      rise: num(rise),
    };
    if (optionalDuration(timeout) !== undefined) check.timeout = optionalDuration(timeout);
    if (checkType === 'cmpp') check.cmpp = { sourceAddr, secret, version };
    // Kept as stored: the form shows them (checkExtras) without editing them, and sends the whole backend.
    const stored = initial?.check;
    if (stored?.fastinter !== undefined) check.fastinter = stored.fastinter;
    if (stored?.downinter !== undefined) check.downinter = stored.downinter;
    if (checkType === 'tcp' && stored?.steps !== undefined) check.steps = stored.steps;
    const be = {
      name: name.trim(),
      balance,
      hashType,
      check: check as unknown as BackendCheck,
      sendProxy,
      onMarkedDown,
      // The whole backend is sent: retries, redispatch and its own timeouts go back as edited (empty: the defaults).
      ...(optionalNum(retries) !== undefined ? { retries: optionalNum(retries) } : {}),
      ...(redispatch !== '' ? { redispatch: redispatch === 'true' } : {}),
      ...ownTimeouts({
        connect: optionalDuration(timeoutConnect),
        server: optionalDuration(timeoutServer),
        tunnel: optionalDuration(timeoutTunnel),
      }),
      // backend.cmpp as stored (its limits are not edited here: REST/config document), the close limit as edited.
      ...cmppOf(initial?.cmpp, optionalDuration(closeTimeout)),
      servers: servers.map((s) => ({
        name: s.name.trim(),
        address: s.address.trim(),
        port: num(s.port),
        weight: num(s.weight),
        ...(optionalNum(s.maxconn) !== undefined ? { maxconn: optionalNum(s.maxconn) } : {}),
        backup: s.backup,
        check: s.check,
        ...(s.checkPort !== undefined ? { checkPort: s.checkPort } : {}),
      })),
    } as unknown as Backend;
    onReview(be);
  }

  const claimed = [
    ...BACKEND_FIELDS,
    'check.type',
    'check.inter',
    'check.fall',
    'check.rise',
    'check.timeout',
    'cmpp.closeTimeout',
    'check.cmpp.sourceAddr',
    'check.cmpp.secret',
    'check.cmpp.version',
  ];
  const general = unclaimed(errors, claimed, [
    /^servers\[\d+\]\.(name|address|port|weight|maxconn|backup|check)$/,
  ]);
  const hashed = isHashed(balance);

  return (
    <EditorForm
      titleId="be-form-title"
      title={initial ? `Edit backend ${initial.name}` : 'Add backend'}
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
          placeholder="eg: smsc"
        />
        <Field label="Balance" errors={fe.of('balance')} notes={notes.balance}>
          {(p) => (
            <select
              {...p}
              name="balance"
              value={balance}
              onChange={(e) => edit(setBalance, 'balance')(inputValue(e) as Backend['balance'])}
            >
              <option value="source">source (client IP hash)</option>
              <option value="cmpp-account">cmpp-account (SP account hash)</option>
              <option value="roundrobin">roundrobin</option>
              <option value="leastconn">leastconn</option>
              <option value="first">first</option>
            </select>
          )}
        </Field>
        <Field
          label="Hash type"
          errors={fe.of('hashType')}
          notes={notes.hashType}
          hint={hashed ? 'consistent: a server change moves only its share' : 'only used by hashed balancing'}
        >
          {(p) => (
            <select
              {...p}
              name="hashType"
              value={hashType}
              disabled={!hashed}
              onChange={(e) => edit(setHashType, 'hashType')(inputValue(e))}
            >
              <option value="consistent">consistent</option>
              <option value="map-based">map-based</option>
            </select>
          )}
        </Field>
        <Field label="PROXY protocol to servers" errors={fe.of('sendProxy')} notes={notes.sendProxy}>
          {(p) => (
            <select
              {...p}
              name="sendProxy"
              value={sendProxy}
              onChange={(e) => edit(setSendProxy, 'sendProxy')(inputValue(e))}
            >
              <option value="none">none</option>
              <option value="v1">v1</option>
              <option value="v2">v2</option>
            </select>
          )}
        </Field>
        <Field label="When a server is marked DOWN" errors={fe.of('onMarkedDown')} notes={notes.onMarkedDown}>
          {(p) => (
            <select
              {...p}
              name="onMarkedDown"
              value={onMarkedDown}
              onChange={(e) => edit(setOnMarkedDown, 'onMarkedDown')(inputValue(e))}
            >
              <option value="keep">keep its sessions</option>
              <option value="shutdown-sessions">shut its sessions down</option>
              <option value="terminate">end its sessions the CMPP way (TERMINATE, nothing lost)</option>
            </select>
          )}
        </Field>
        <TextField
          label="Retries"
          name="retries"
          value={retries}
          onValue={edit(setRetries, 'retries')}
          errors={fe.of('retries')}
          notes={notes.retries}
          hint="empty: 1; attempts after a failed connect (0 to 100)"
          placeholder="eg: 3"
          numeric
        />
        <Field
          label="Redispatch"
          errors={fe.of('redispatch')}
          notes={notes.redispatch}
          hint="the last retry (or, unless hashed, every one) may go to another server"
        >
          {(p) => (
            <select
              {...p}
              name="redispatch"
              value={redispatch}
              onChange={(e) => edit(setRedispatch, 'redispatch')(inputValue(e))}
            >
              <option value="">default (yes)</option>
              <option value="true">yes</option>
              <option value="false">no: retries stay on the same server</option>
            </select>
          )}
        </Field>
        <TextField
          label="Timeout connect"
          name="timeouts.connect"
          value={timeoutConnect}
          onValue={edit(setTimeoutConnect, 'timeouts.connect')}
          errors={fe.of('timeouts.connect')}
          notes={notes['timeouts.connect']}
          hint={`empty: defaults (${durationText(defaults.timeouts.connect)})`}
        />
        <TextField
          label="Timeout server"
          name="timeouts.server"
          value={timeoutServer}
          onValue={edit(setTimeoutServer, 'timeouts.server')}
          errors={fe.of('timeouts.server')}
          notes={notes['timeouts.server']}
          hint={`empty: defaults (${durationText(defaults.timeouts.server)}); idle limit on the server side`}
        />
        <TextField
          label="Timeout tunnel"
          name="timeouts.tunnel"
          value={timeoutTunnel}
          onValue={edit(setTimeoutTunnel, 'timeouts.tunnel')}
          errors={fe.of('timeouts.tunnel')}
          notes={notes['timeouts.tunnel']}
          hint={`empty: ${defaults.timeouts.tunnel !== undefined ? `defaults (${durationText(defaults.timeouts.tunnel)})` : 'none'}; once connected, in place of client and server`}
        />
        <TextField
          label="CMPP close limit"
          name="cmpp.closeTimeout"
          value={closeTimeout}
          onValue={edit(setCloseTimeout, 'cmpp.closeTimeout')}
          errors={fe.of('cmpp.closeTimeout')}
          notes={notes['cmpp.closeTimeout']}
          hint="empty: 5s; how long a lossless CMPP close may take before the legs are closed anyway"
        />
      </div>
      <fieldset>
        <legend>Health check</legend>
        {checkExtras(initial?.check, servers) && (
          <p class="hint" data-testid="check-extras">
            check: {checkExtras(initial?.check, servers)} (kept as they are; set through the API or an import)
          </p>
        )}
        <div class="form-grid">
          <Field label="Type" errors={fe.of('check.type')} notes={notes['check.type']}>
            {(p) => (
              <select
                {...p}
                name="check.type"
                value={checkType}
                onChange={(e) => edit(setCheckType, 'check.type')(inputValue(e))}
              >
                <option value="tcp">tcp (connect)</option>
                <option value="cmpp">cmpp (CMPP_CONNECT)</option>
                <option value="none">none</option>
              </select>
            )}
          </Field>
          <TextField
            label="Interval"
            name="check.inter"
            value={inter}
            onValue={edit(setInter, 'check.inter')}
            errors={fe.of('check.inter')}
            notes={notes['check.inter']}
            hint="like 5s, 500ms, 1m, or milliseconds"
          />
          <TextField
            label="Fall (failures to DOWN)"
            name="check.fall"
            value={fall}
            onValue={edit(setFall, 'check.fall')}
            errors={fe.of('check.fall')}
            notes={notes['check.fall']}
            numeric
          />
          <TextField
            label="Rise (successes to UP)"
            name="check.rise"
            value={rise}
            onValue={edit(setRise, 'check.rise')}
            errors={fe.of('check.rise')}
            notes={notes['check.rise']}
            numeric
          />
          <TextField
            label="Timeout"
            name="check.timeout"
            value={timeout}
            onValue={edit(setTimeout_, 'check.timeout')}
            errors={fe.of('check.timeout')}
            notes={notes['check.timeout']}
            hint={`empty: ${durationText(defaults.timeouts.check)} from defaults.timeouts.check`}
          />
          {checkType === 'cmpp' && [
            <TextField
              key="sa"
              label="CMPP Source_Addr"
              name="check.cmpp.sourceAddr"
              value={sourceAddr}
              onValue={edit(setSourceAddr, 'check.cmpp.sourceAddr')}
              errors={fe.of('check.cmpp.sourceAddr')}
              placeholder="eg: 901234"
            />,
            <Field
              key="se"
              label="CMPP secret"
              errors={fe.of('check.cmpp.secret')}
              hint="shown masked; leave the mask to keep it"
            >
              {(p) => (
                <input
                  {...p}
                  type="password"
                  autoComplete="off"
                  name="check.cmpp.secret"
                  value={secret}
                  onInput={(e) => edit(setSecret, 'check.cmpp.secret')(inputValue(e))}
                />
              )}
            </Field>,
            <Field key="ve" label="CMPP version" errors={fe.of('check.cmpp.version')}>
              {(p) => (
                <select
                  {...p}
                  name="check.cmpp.version"
                  value={version}
                  onChange={(e) => edit(setVersion, 'check.cmpp.version')(inputValue(e))}
                >
                  <option value="2.0">2.0</option>
                  <option value="3.0">3.0</option>
                </select>
              )}
            </Field>,
          ]}
        </div>
      </fieldset>
      <fieldset>
        <legend>Servers</legend>
        {fe.of('servers').length > 0 && <p class="field-error">{fe.of('servers').join('; ')}</p>}
        {servers.length === 0 && <p class="muted">No servers yet.</p>}
        {servers.map((s, i) => {
          const at = (f: string) => `servers[${i}].${f}`;
          const e = (f: string) => fe.of(at(f));
          // Conflict marks name servers by name: indexes shift when someone else adds one.
          const n = (f: string) => notes[`servers[${s.name}].${f}`];
          return (
            <div
              key={s.key}
              class="server-editor form-grid"
              role="group"
              aria-label={`Server ${s.name || i + 1}`}
              data-server-index={i}
            >
              <TextField
                label="Server name"
                name={`servers[${i}].name`}
                value={s.name}
                onValue={(v) => update(s.key, { name: v }, at('name'))}
                invalid={e('name').length > 0}
                marked={n('name') !== undefined}
                placeholder="eg: smsc1"
              />
              <TextField
                label="Address"
                name={`servers[${i}].address`}
                value={s.address}
                onValue={(v) => update(s.key, { address: v }, at('address'))}
                invalid={e('address').length > 0}
                marked={n('address') !== undefined}
                placeholder="eg: 10.0.0.5 or 2001:db8::5"
              />
              <TextField
                label="Port"
                name={`servers[${i}].port`}
                value={s.port}
                onValue={(v) => update(s.key, { port: v }, at('port'))}
                invalid={e('port').length > 0}
                marked={n('port') !== undefined}
                hint="1–65535"
                placeholder="eg: 7890"
                numeric
              />
              <TextField
                label="Weight"
                name={`servers[${i}].weight`}
                value={s.weight}
                onValue={(v) => update(s.key, { weight: v }, at('weight'))}
                invalid={e('weight').length > 0}
                marked={n('weight') !== undefined}
                hint="0–256; 0 takes no new connections"
                numeric
              />
              <TextField
                label="Max connections"
                name={`servers[${i}].maxconn`}
                value={s.maxconn}
                onValue={(v) => update(s.key, { maxconn: v }, at('maxconn'))}
                invalid={e('maxconn').length > 0}
                marked={n('maxconn') !== undefined}
                hint="empty: no limit"
                numeric
              />
              <div class="field server-options">
                <span>Options</span>
                <label class="check">
                  <input
                    type="checkbox"
                    checked={s.backup}
                    onChange={(ev) => update(s.key, { backup: inputChecked(ev) }, at('backup'))}
                  />{' '}
                  backup
                </label>
                <label class="check">
                  <input
                    type="checkbox"
                    checked={s.check}
                    onChange={(ev) => update(s.key, { check: inputChecked(ev) }, at('check'))}
                  />{' '}
                  health-checked
                </label>
              </div>
              <div class="field">
                <span>&nbsp;</span>
                <button
                  type="button"
                  class="danger-outline"
                  onClick={() => setServers((list) => list.filter((x) => x.key !== s.key))}
                >
                  Remove {s.name || 'server'}
                </button>
              </div>
              <RowMessages errors={e} notes={n} />
            </div>
          );
        })}
        <button
          type="button"
          onClick={() =>
            setServers((list) => [
              ...list,
              {
                key: nextKey++,
                name: `s${list.length + 1}`,
                address: '',
                port: '',
                weight: '1',
                maxconn: '',
                backup: false,
                check: true,
              },
            ])
          }
        >
          Add server
        </button>
      </fieldset>
    </EditorForm>
  );
}

/** Server fields in row order, with the name a message about them starts with. */
const SERVER_FIELDS = [
  ['name', 'name'],
  ['address', 'address'],
  ['port', 'port'],
  ['weight', 'weight'],
  ['maxconn', 'max connections'],
  ['backup', 'backup'],
  ['check', 'health-checked'],
] as const;

/**
 * The API's messages and the conflict marks of one server, under its whole row: a compact row has no
 * room beside each input, and the input itself is marked invalid.
 */
function RowMessages({
  errors,
  notes,
}: {
  errors: (field: string) => string[];
  notes: (field: string) => string[] | undefined;
}) {
  const lines = SERVER_FIELDS.flatMap(([field, label]) => [
    ...errors(field).map((m) => (
      <p key={`e${field}${m}`} class="field-error" role="alert" data-testid="field-error" data-field={field}>
        {label}: {m}
      </p>
    )),
    ...(notes(field) ?? []).map((m) => (
      <p key={`n${field}${m}`} class="field-note" data-testid="field-note" data-field={field}>
        {m}
      </p>
    )),
  ]);
  return lines.length > 0 ? <div class="row-messages">{lines}</div> : null;
}

/** `cmpp` of the backend to send: the stored one with closeTimeout as edited; none when it ends up empty. */
function cmppOf(
  stored: Backend['cmpp'],
  closeTimeout: number | string | undefined,
): { cmpp?: Backend['cmpp'] } {
  const cmpp: Record<string, unknown> = { ...(stored ?? {}) };
  if (closeTimeout === undefined) delete cmpp.closeTimeout;
  else cmpp.closeTimeout = closeTimeout;
  return Object.keys(cmpp).length === 0 ? {} : { cmpp: cmpp as Backend['cmpp'] };
}

/** A backend's own timeouts, only those set; none at all when none is. */
function ownTimeouts(t: Record<string, number | string | undefined>): {
  timeouts?: Record<string, number | string>;
} {
  const set = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Record<
    string,
    number | string
  >;
  return Object.keys(set).length > 0 ? { timeouts: set } : {};
}
