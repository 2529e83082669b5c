import type { ComponentChildren } from 'preact';

/** The frame of an add/edit form: its title, the API's messages no field claimed, Cancel and Review. */
export function EditorForm({
  titleId,
  title,
  general,
  busy,
  onSubmit,
  onCancel,
  children,
}: {
  titleId: string;
  title: string;
  /** Messages shown above the fields because no field shows them. */
  general: string[];
  busy: boolean;
  onSubmit: (e: Event) => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <form class="panel editor" onSubmit={onSubmit} noValidate aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {general.length > 0 && (
        <div class="form-error" role="alert">
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
