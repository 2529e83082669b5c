import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { FieldErrors } from '../field-errors.js';

/**
 * The frame of an add/edit form: its title, the API's messages no field claimed, Cancel and Review.
 * After a refused review it brings the first invalid field (or the message box) into view below the
 * sticky header and focuses it, so the operator lands on what to fix.
 */
export function EditorForm({
  titleId,
  title,
  general,
  errors,
  warning,
  busy,
  onSubmit,
  onCancel,
  children,
}: {
  titleId: string;
  title: string;
  /** Messages shown above the fields because no field shows them. */
  general: string[];
  /** The API's refusal this form shows (a new object per refusal). */
  errors?: FieldErrors;
  /** Shown above the fields: what happened to the form (reloaded after a conflict). */
  warning?: ComponentChildren;
  busy: boolean;
  onSubmit: (e: Event) => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!errors || Object.keys(errors).length === 0 || !form.current) return;
    const target =
      form.current.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      form.current.querySelector<HTMLElement>('.form-error');
    if (target) revealBelowHeader(target);
  }, [errors]);

  return (
    <form ref={form} class="panel editor" onSubmit={onSubmit} noValidate aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {warning && (
        <div class="form-warn" role="status" data-testid="form-warning">
          {warning}
        </div>
      )}
      {general.length > 0 && (
        <div class="form-error" role="alert" tabIndex={-1}>
          {general.map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      )}
      {children}
      <div class="row-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Review changes'}
        </button>
      </div>
    </form>
  );
}

/** Scrolls `el` to just below the sticky header (and its banners), then focuses it without scrolling again. */
function revealBelowHeader(el: HTMLElement): void {
  const header = document.querySelector('.top-bar') ?? document.querySelector('header.top');
  const below = header ? header.getBoundingClientRect().bottom : 0;
  // The field's label sits above the input: keep it in view too.
  const box = (el.closest('.field') ?? el).getBoundingClientRect();
  window.scrollBy({ top: box.top - below - 12, behavior: 'instant' as ScrollBehavior });
  el.focus({ preventScroll: true });
}
