// A frontend that could not bind (FAILED) keeps trying by itself: the first retry after
// bindRetry.initialMs, then doubling up to bindRetry.maxMs (HAProxy retries a failed bind only on
// reload; a load balancer that outlives the program squatting its port should take the port back).
// An operator can also retry at once. Every attempt runs in the runtime's queue, between applies,
// and attaches the new listener synchronously after its bind, as an apply's swap does.
import { updateAcceptPauses } from './connections.js';
import { RuntimeError } from './errors.js';
import type { FrontendRuntime } from './frontend.js';
import { BindError, Listener } from './listener.js';
import type { RuntimeState } from './state.js';
import type { FrontendFailure, FrontendOpenTrigger } from './types.js';

/** Puts a FAILED frontend on the backoff schedule (keeping its attempt count if already on it). */
export function scheduleBindRetry(state: RuntimeState, frontend: FrontendRuntime, now: number): void {
  if (state.closed) return;
  const retry = (frontend.retry ??= { attempts: 0, nextAt: 0, timer: null });
  if (retry.timer !== null) return;
  const delay = Math.min(state.bindRetry.maxMs, state.bindRetry.initialMs * 2 ** retry.attempts);
  retry.nextAt = now + delay;
  retry.timer = setTimeout(() => {
    retry.timer = null;
    void state.exclusive(() => attemptBind(state, frontend, 'backoff')).catch(() => {});
  }, delay);
  retry.timer.unref();
}

/** The frontend listens again, is disabled or is gone: no more retries. */
export function cancelBindRetry(frontend: FrontendRuntime): void {
  if (frontend.retry?.timer) clearTimeout(frontend.retry.timer);
  frontend.retry = null;
}

/** Whether a frontend is FAILED now: enabled, in the snapshot, and without a listener on one of its binds. */
export function isFailed(frontend: FrontendRuntime): boolean {
  return !frontend.retired && frontend.config.enabled && !frontend.listensOnAll();
}

/**
 * One bind attempt of a FAILED frontend; run it inside state.exclusive. Resolves true when it now
 * listens; on failure records the error, schedules the next attempt and throws BIND_FAILED.
 */
export async function attemptBind(
  state: RuntimeState,
  frontend: FrontendRuntime,
  trigger: FrontendOpenTrigger,
): Promise<void> {
  if (state.closed) throw new RuntimeError('CLOSED', 'runtime is closed');
  // An apply may have retired it, disabled it or bound it since this attempt was scheduled.
  if (state.frontends.get(frontend.name) !== frontend || !isFailed(frontend)) {
    if (trigger === 'backoff') return;
    throw new RuntimeError('NOT_FAILED', `frontend "${frontend.name}" is not FAILED`, {
      frontend: frontend.name,
    });
  }
  // Only the binds that don't listen: those that do keep serving.
  const listeners = frontend.missingBinds().map((b) => new Listener(frontend, b.address, b.port, state.host));
  const retry = frontend.retry;
  if (retry?.timer) clearTimeout(retry.timer);
  if (retry) retry.timer = null;
  const attempts = (retry?.attempts ?? 0) + 1;
  const results = await Promise.allSettled(listeners.map((l) => l.listen()));
  const bound = listeners.filter((_, i) => results[i].status === 'fulfilled');
  if (state.closed) {
    for (const listener of bound) listener.close();
    throw new RuntimeError('CLOSED', 'runtime is closed');
  }
  // Synchronously from here: the new listeners and the frontend go live together.
  for (const listener of bound) {
    frontend.listeners.push(listener);
    state.listeners.add(listener);
  }
  if (bound.length > 0) updateAcceptPauses(state);
  const failedAt = results.findIndex((r) => r.status === 'rejected');
  if (failedAt >= 0) {
    const failure = bindFailure(
      frontend.name,
      listeners[failedAt],
      (results[failedAt] as PromiseRejectedResult).reason,
    );
    frontend.error = failure;
    frontend.retry = { attempts, nextAt: 0, timer: null };
    scheduleBindRetry(state, frontend, Date.now());
    throw new RuntimeError(
      'BIND_FAILED',
      failure.message,
      { frontend: frontend.name, bind: failure.bind },
      failure.code,
    );
  }
  cancelBindRetry(frontend);
  frontend.error = undefined;
  announceOpen(state, frontend, attempts, trigger, Date.now());
}

/** A FAILED frontend listens at last (by a retry, or an apply that bound it): logged, and the `frontend-open` event. */
export function announceOpen(
  state: RuntimeState,
  frontend: FrontendRuntime,
  attempts: number,
  trigger: FrontendOpenTrigger,
  at: number,
): void {
  const { address, port } = frontend.config.bind;
  const where = frontend.config.binds.map((b) => `${b.address}:${b.port}`).join(', ');
  state.log('info', `frontend ${frontend.name} listens on ${where} after ${attempts} attempt(s)`);
  state.emit({ type: 'frontend-open', frontend: frontend.name, address, port, attempts, trigger, at });
}

/** The failure of one bind, naming the frontend and the address it could not bind. */
export function bindFailure(frontend: string, listener: Listener, error: unknown): FrontendFailure {
  const code =
    error instanceof BindError ? error.code : ((error as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  return {
    frontend,
    code,
    message: `frontend "${frontend}" cannot bind ${listener.address}:${listener.port}: ${code}`,
    bind: { address: listener.address, port: listener.port },
  };
}
