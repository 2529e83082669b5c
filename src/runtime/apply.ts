// apply() follows Caddy's pipeline: validate a copy, bind what is new, swap synchronously, then close
// what is gone. The bind plan is the only await: from its end to the end of the swap nothing yields,
// so no connection ever sees half a snapshot.
import type { Snapshot } from '../schema/snapshot.js';
import { reconcileBackends } from './backend-reconcile.js';
import { planBinds } from './bind-plan.js';
import { updateAcceptPauses } from './connections.js';
import { RuntimeError } from './errors.js';
import { FrontendRuntime } from './frontend.js';
import { checkSnapshot } from './snapshot-check.js';
import type { RuntimeState } from './state.js';
import type { ApplyOptions, ApplyResult } from './types.js';

export async function applySnapshot(
  state: RuntimeState,
  input: Snapshot,
  options: ApplyOptions,
): Promise<ApplyResult> {
  if (state.closed) throw new RuntimeError('CLOSED', 'runtime is closed');
  const next = structuredClone(input);
  checkSnapshot(next);

  // 1. Bind what is new.
  const plan = await planBinds(state, next, options);
  if (state.closed) {
    plan.abandon();
    throw new RuntimeError('CLOSED', 'runtime is closed');
  }

  // 2. Swap, synchronously.
  const now = Date.now();
  state.snapshot = next;
  reconcileBackends(state, next, now);
  const failed = new Map(plan.failures.map((f) => [f.frontend, f]));
  const frontends = new Map<string, FrontendRuntime>();
  state.listeners.clear();
  for (const f of next.frontends) {
    const frontend = state.frontends.get(f.name) ?? new FrontendRuntime(f);
    frontend.update(f);
    frontend.retired = false;
    frontend.error = failed.get(f.name);
    const listener = plan.listenerFor(f.name);
    frontend.listener = listener;
    if (listener) {
      listener.frontend = frontend;
      state.listeners.add(listener);
    }
    frontends.set(f.name, frontend);
  }
  for (const [name, old] of state.frontends) {
    if (!frontends.has(name)) old.retired = true;
  }
  state.frontends.clear();
  for (const [name, frontend] of frontends) state.frontends.set(name, frontend);

  // 3. Stop what is gone; its sessions stay until they end.
  for (const listener of plan.releasing()) listener.close();
  updateAcceptPauses(state);

  for (const failure of plan.failures) {
    state.log('error', failure.message, failure);
    state.emit({
      type: 'frontend-error',
      frontend: failure.frontend,
      code: failure.code,
      message: failure.message,
      at: now,
    });
  }
  return { failedFrontends: plan.failures };
}
