import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { EditorForm } from '../components/editor-form.js';
import { Field, TextField } from '../components/field.js';
import { SYSLOG_FACILITIES } from '../../../src/schema/fields.js';
import { unclaimed, type FieldErrors } from '../field-errors.js';
import type { Snapshot } from '../types.js';
import { duration, durationText, inputValue, num, str, useFieldErrors } from './form-values.js';

type Defaults = Snapshot['defaults'];
const TIMEOUTS = [
  { key: 'connect', label: 'Connect timeout', hint: 'to reach a server' },
  { key: 'client', label: 'Client timeout', hint: 'client side idle' },
  { key: 'server', label: 'Server timeout', hint: 'server side idle' },
  { key: 'check', label: 'Check timeout', hint: 'for checks without their own' },
] as const;

/**
 * `defaults`: the global maxconn, the four timeouts and the session logs' syslog target (`log`: an empty address
 * clears it). Fields this form does not know (added by a later
 * version) are sent back as they were read.
 */
export function DefaultsForm({
  initial,
  errors,
  notes = {},
  warning,
  busy,
  onReview,
  onCancel,
}: {
  initial: Defaults;
  errors: FieldErrors;
  notes?: FieldErrors;
  /** Why the form was reloaded (after a conflict). */
  warning?: ComponentChildren;
  busy: boolean;
  onReview: (d: Defaults) => void;
  onCancel: () => void;
}) {
  const [maxconn, setMaxconn] = useState(str(initial.maxconn));
  const [timeouts, setTimeouts] = useState<Record<string, string>>(
    Object.fromEntries(TIMEOUTS.map((t) => [t.key, durationText(initial.timeouts[t.key])])),
  );
  const [logAddress, setLogAddress] = useState(initial.log?.address ?? '');
  const [logPort, setLogPort] = useState(str(initial.log?.port));
  const [logFacility, setLogFacility] = useState<string>(initial.log?.facility ?? 'local0');
  const fe = useFieldErrors(errors);

  function submit(e: Event) {
    e.preventDefault();
    onReview({
      ...initial,
      maxconn: num(maxconn),
      timeouts: {
        ...initial.timeouts,
        ...Object.fromEntries(TIMEOUTS.map((t) => [t.key, duration(timeouts[t.key])])),
      },
      // null clears the target; a port left empty is syslog's 514.
      log:
        logAddress.trim() === ''
          ? null
          : {
              address: logAddress.trim(),
              ...(logPort.trim() === '' ? {} : { port: num(logPort) }),
              facility: logFacility,
            },
    } as unknown as Defaults);
  }

  const claimed = [
    'maxconn',
    ...TIMEOUTS.map((t) => `timeouts.${t.key}`),
    'log',
    'log.address',
    'log.port',
    'log.facility',
  ];
  return (
    <EditorForm
      titleId="defaults-form-title"
      title="Edit defaults"
      general={unclaimed(errors, claimed)}
      errors={errors}
      warning={warning}
      busy={busy}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <TextField
          label="Global max connections"
          name="maxconn"
          value={maxconn}
          onValue={fe.edit(setMaxconn, 'maxconn')}
          errors={fe.of('maxconn')}
          notes={notes.maxconn}
          hint="all frontends together"
          numeric
        />
        {TIMEOUTS.map((t) => (
          <TextField
            key={t.key}
            label={t.label}
            name={`timeouts.${t.key}`}
            value={timeouts[t.key]}
            onValue={fe.edit(
              (v: string) => setTimeouts((all) => ({ ...all, [t.key]: v })),
              `timeouts.${t.key}`,
            )}
            errors={fe.of(`timeouts.${t.key}`)}
            notes={notes[`timeouts.${t.key}`]}
            hint={`${t.hint}; like 5s, 500ms, 1m, 1h`}
          />
        ))}
        <TextField
          label="Syslog address"
          name="log.address"
          value={logAddress}
          onValue={fe.edit(setLogAddress, 'log.address')}
          errors={[...fe.of('log'), ...fe.of('log.address')]}
          hint="session logs over UDP to this IP, as HAProxy's global log; empty: none (TETHER_SYSLOG applies)"
          placeholder="eg: 127.0.0.1"
        />
        <TextField
          label="Syslog port"
          name="log.port"
          value={logPort}
          onValue={fe.edit(setLogPort, 'log.port')}
          errors={fe.of('log.port')}
          hint="empty: 514"
          numeric
        />
        <Field label="Syslog facility" errors={fe.of('log.facility')}>
          {(p) => (
            <select
              {...p}
              name="log.facility"
              value={logFacility}
              onChange={(e) => fe.edit(setLogFacility, 'log.facility')(inputValue(e))}
            >
              {SYSLOG_FACILITIES.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
    </EditorForm>
  );
}
