import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/** Label, input and the API's messages for that field, tied together for screen readers. */
export function Field({
  label,
  errors = [],
  hint,
  children,
}: {
  label: string;
  errors?: string[];
  hint?: string;
  children: (props: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
  }) => ComponentChildren;
}) {
  const id = useId();
  const errId = errors.length ? `${id}-err` : undefined;
  return (
    <div class="field">
      <span>
        <label for={id}>{label}</label>
      </span>
      {children({ id, 'aria-invalid': errors.length > 0, 'aria-describedby': errId })}
      {hint && !errors.length && <span class="hint">{hint}</span>}
      {errors.length > 0 && (
        <p class="field-error" id={errId} role="alert" data-testid="field-error">
          {errors.join('; ')}
        </p>
      )}
    </div>
  );
}
