// apply() follows Caddy's pipeline: validate a copy, resolve new host names, bind what is new, swap
// synchronously, then close what is gone. Resolving and the bind plan are the only awaits: from the
// plan's end to the end of the swap nothing yields, so no connection ever sees half a snapshot.
import type { Snapshot } from '../schema/snapshot.js';
import { adminStateMap, reconcileBackends } from './backend-reconcile.js';
import { planBinds, predictBindFailure } from './bind-plan.js';
import { announceOpen, cancelBindRetry, isFailed, scheduleBindRetry } from './bind-retry.js';
import { updateAcceptPauses } from './connections.js';
import { RuntimeError } from './errors.js';
import { adoptNames, resolveNewNames } from './resolver.js';
import { FrontendRuntime } from './frontend.js';
import { checkSnapshot } from './snapshot-check.js';
import type { RuntimeState } from './state.js';
import type { ApplyOptions, ApplyResult } from './types.js';

const ADMIN_STATES = new Set(['ready', 'drain', 'maint']);

function checkAdminStates(entries: ApplyOptions['adminStates']): void {
  if (entries === undefined) return;
  if (!Array.isArray(entries)) {
    throw new RuntimeError('INVALID_SNAPSHOT', 'adminStates must be an array', { field: 'adminStates' });
  }
  entries.forEach((e, i) => {
    if (typeof e?.backend !== 'string' || typeof e.server !== 'string' || !ADMIN_STATES.has(e.state)) {
      throw new RuntimeError('INVALID_SNAPSHOT', `adminStates[${i}]: must be { backend, server, state }`, {
        field: `adminStates[${i}]`,
      });
    }
  });
}

/** What apply checks before anything changes, for a dry run: the static checks and name resolution. */
export async function checkCandidate(state: RuntimeState, input: Snapshot): Promise<void> {
  const candidate = structuredClone(input);
  checkSnapshot(candidate);
  await resolveNewNames(state, candidate);
  const failure = predictBindFailure(state, candidate);
  if (failure) {
    throw new RuntimeError(
      'BIND_FAILED',
      failure.message,
      { frontend: failure.frontend, bind: failure.bind },
      failure.code,
    );
  }
}

export async function applySnapshot(
  state: RuntimeState,
  input: Snapshot,
  options: ApplyOptions,
): Promise<ApplyResult> {
  if (state.closed) throw new RuntimeError('CLOSED', 'runtime is closed');
  const next = structuredClone(input);
  checkSnapshot(next);
  checkAdminStates(options.adminStates);
  const adminStates = adminStateMap(options.adminStates);

  // 1. Resolve the host names that are new, then bind what is new.
  const names = await resolveNewNames(state, next, options.tolerateUnresolvedNames === true);
  if (state.closed) throw new RuntimeError('CLOSED', 'runtime is closed');
  const plan = await planBinds(state, next, options);
  if (state.closed) {
    plan.abandon();
    throw new RuntimeError('CLOSED', 'runtime is closed');
  }

  // 2. Swap, synchronously.
  const now = Date.now();
  state.snapshot = next;
  adoptNames(state, next, names);
  reconcileBackends(state, next, now, adminStates);
  const failed = new Map(plan.failures.map((f) => [f.frontend, f]));
  const frontends = new Map<string, FrontendRuntime>();
  const reopened: Array<{ frontend: FrontendRuntime; attempts: number }> = [];
  const stillFailing = new Set<string>();
  state.listeners.clear();
  for (const f of next.frontends) {
    const known = state.frontends.get(f.name);
    const wasFailed = known !== undefined && isFailed(known);
    const frontend = known ?? new FrontendRuntime(f);
    frontend.update(f);
    frontend.retired = false;
    frontend.error = failed.get(f.name);
    const listeners = plan.listenersFor(f.name);
    frontend.listeners = listeners;
    for (const listener of listeners) {
      listener.frontend = frontend;
      state.listeners.add(listener);
    }
    if (wasFailed && !isFailed(frontend)) {
      if (f.enabled) reopened.push({ frontend, attempts: (frontend.retry?.attempts ?? 0) + 1 });
    } else if (wasFailed && frontend.error) {
      stillFailing.add(f.name);
    }
    if (frontend.error) scheduleBindRetry(state, frontend, now);
    else if (frontend.retry) cancelBindRetry(frontend);
    frontends.set(f.name, frontend);
  }
  for (const [name, old] of state.frontends) {
    if (frontends.has(name)) continue;
    old.retired = true;
    cancelBindRetry(old);
  }
  state.frontends.clear();
  for (const [name, frontend] of frontends) state.frontends.set(name, frontend);

  // 3. Stop what is gone; its sessions stay until they end.
  for (const listener of plan.releasing()) listener.close();
  updateAcceptPauses(state);

  for (const { frontend, attempts } of reopened) announceOpen(state, frontend, attempts, 'apply', now);
  for (const failure of plan.failures) {
    // Reported when it fails; its retries show in stats rather than as an event per apply.
    if (stillFailing.has(failure.frontend)) continue;
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
