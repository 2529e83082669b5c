import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { EditorForm } from '../components/editor-form.js';
import { TextField } from '../components/field.js';
import { unclaimed, type FieldErrors } from '../field-errors.js';
import type { Snapshot } from '../types.js';
import { duration, durationText, num, str, useFieldErrors } from './form-values.js';

type Defaults = Snapshot['defaults'];
const TIMEOUTS = [
  { key: 'connect', label: 'Connect timeout', hint: 'to reach a server' },
  { key: 'client', label: 'Client timeout', hint: 'client side idle' },
  { key: 'server', label: 'Server timeout', hint: 'server side idle' },
  { key: 'check', label: 'Check timeout', hint: 'for checks without their own' },
] as const;

/**
 * `defaults`: the global maxconn and the four timeouts. Fields this form does not know (added by a later
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
    } as unknown as Defaults);
  }

  const claimed = ['maxconn', ...TIMEOUTS.map((t) => `timeouts.${t.key}`)];
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
          onValue={(v) => {
            setMaxconn(v);
            fe.edited('maxconn');
          }}
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
            onValue={(v) => {
              setTimeouts((all) => ({ ...all, [t.key]: v }));
              fe.edited(`timeouts.${t.key}`);
            }}
            errors={fe.of(`timeouts.${t.key}`)}
            notes={notes[`timeouts.${t.key}`]}
            hint={`${t.hint}; like 5s, 500ms, 1m, 1h`}
          />
        ))}
      </div>
    </EditorForm>
  );
}
