import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { inputValue } from '../pages/form-values.js';

/** Label, input and the API's messages for that field, tied together for screen readers. `invalid`: marked
 *  bad by a message shown beside another field (a bind clash names address and port together). */
export function Field({
  label,
  errors = [],
  invalid = false,
  hint,
  notes = [],
  marked = false,
  children,
}: {
  label: string;
  errors?: string[];
  invalid?: boolean;
  hint?: string;
  /** Warnings that are not refusals: this value undoes another operator's change. */
  notes?: string[];
  /** Its value undoes another operator's change, said in a note elsewhere (under a compact row). */
  marked?: boolean;
  children: (props: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
  }) => ComponentChildren;
}) {
  const id = useId();
  const errId = errors.length ? `${id}-err` : undefined;
  return (
    <div class={marked || notes.length ? 'field marked' : 'field'}>
      <span>
        <label for={id}>{label}</label>
      </span>
      {children({ id, 'aria-invalid': invalid || errors.length > 0, 'aria-describedby': errId })}
      {hint && !errors.length && <span class="hint">{hint}</span>}
      {errors.length > 0 && (
        <p class="field-error" id={errId} role="alert" data-testid="field-error">
          {errors.join('; ')}
        </p>
      )}
      {notes.map((n) => (
        <p key={n} class="field-note" data-testid="field-note">
          {n}
        </p>
      ))}
    </div>
  );
}

/** A Field holding one text input; `numeric` brings up a number keypad but keeps the text as typed. */
export function TextField({
  label,
  name,
  value,
  onValue,
  errors,
  invalid,
  hint,
  notes,
  marked,
  placeholder,
  numeric = false,
}: {
  label: string;
  name: string;
  value: string;
  onValue: (value: string) => void;
  errors?: string[];
  invalid?: boolean;
  hint?: string;
  notes?: string[];
  marked?: boolean;
  placeholder?: string;
  numeric?: boolean;
}) {
  return (
    <Field label={label} errors={errors} invalid={invalid} hint={hint} notes={notes} marked={marked}>
      {(p) => (
        <input
          {...p}
          name={name}
          inputMode={numeric ? 'numeric' : undefined}
          value={value}
          placeholder={placeholder}
          onInput={(e) => onValue(inputValue(e))}
        />
      )}
    </Field>
  );
}
