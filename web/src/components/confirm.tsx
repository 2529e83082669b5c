import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Store, useStore } from '../store.js';

// Every destructive action goes through one dialog whose button names the action ("Cut 12 sessions").
interface Request {
  title: string;
  body: ComponentChildren;
  action: string;
  danger?: boolean;
  resolve: (ok: boolean) => void;
}

const pending = new Store<Request | null>(null);

export function confirmAction(opts: Omit<Request, 'resolve'>): Promise<boolean> {
  return new Promise((resolve) => {
    pending.get()?.resolve(false);
    pending.set({ ...opts, resolve });
  });
}

export function ConfirmHost() {
  const req = useStore(pending);
  const ref = useRef<HTMLDialogElement>(null);
  const okRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (req && !dialog.open) {
      dialog.showModal();
      okRef.current?.focus();
    } else if (!req && dialog.open) dialog.close();
  }, [req]);

  const finish = (ok: boolean) => {
    const current = pending.get();
    pending.set(null);
    current?.resolve(ok);
  };

  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={() => finish(false)}>
      {req && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            finish(true);
          }}
        >
          <h2 id="confirm-title">{req.title}</h2>
          <div class="confirm-body">{req.body}</div>
          <div class="row-actions">
            <button type="button" onClick={() => finish(false)}>
              Cancel
            </button>
            <button type="submit" ref={okRef} class={req.danger ? 'danger' : 'primary'}>
              {req.action}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
