import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { unreachableSince } from '../live.js';
import { Store, useStore } from '../store.js';

// Every destructive action goes through one dialog whose button names the action ("Cut 12 sessions").
// Focus starts on Cancel and Enter never submits by itself: Enter twice from the button that opened it must not
// cut live binds (issue 13, point 4); acting takes the action button itself (click, or Tab then Enter).
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
  // A dialog opened before the appliance stopped answering can't act either.
  const unreachable = useStore(unreachableSince) > 0;
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (req && !dialog.open) {
      dialog.showModal();
      cancelRef.current?.focus();
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
            // Enter in the dialog's checkbox would submit it implicitly: only the action button acts.
            e.preventDefault();
          }}
        >
          <h2 id="confirm-title">{req.title}</h2>
          <div class="confirm-body">{req.body}</div>
          <div class="row-actions">
            <button type="button" ref={cancelRef} onClick={() => finish(false)}>
              Cancel
            </button>
            <button
              type="button"
              class={req.danger ? 'danger' : 'primary'}
              disabled={unreachable}
              title={unreachable ? 'The appliance does not answer: try again when it does' : undefined}
              onClick={() => finish(true)}
            >
              {req.action}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
