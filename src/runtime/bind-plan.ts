// Which listeners an apply keeps, hands over or binds anew. A listener whose frontend keeps its bind
// is kept; one whose bind is taken over by another frontend in the same change is handed over instead
// of rebound. Binding is the apply pipeline's only await; on a bind failure this plan closes what it
// bound, so the running listeners are never touched.
import type { Snapshot } from '../schema/snapshot.js';
import { RuntimeError } from './errors.js';
import { isFailed } from './bind-retry.js';
import { FrontendRuntime } from './frontend.js';
import { BindError, Listener } from './listener.js';
import type { RuntimeState } from './state.js';
import type { ApplyOptions, FrontendFailure } from './types.js';

export interface BindPlan {
  /** The listener a frontend of the new snapshot serves on; null when disabled or not bound. */
  listenerFor(frontend: string): Listener | null;
  /** Listeners no frontend takes any more: closed once the swap is done. */
  releasing(): Iterable<Listener>;
  /**
   * Frontends that could not bind: with tolerateBindErrors any; otherwise only frontends that were
   * FAILED already with the same bind (any other failure makes planning throw).
   */
  readonly failures: FrontendFailure[];
  /** Closes what this plan bound: the apply was abandoned. */
  abandon(): void;
}

export async function planBinds(
  state: RuntimeState,
  next: Snapshot,
  options: ApplyOptions,
): Promise<BindPlan> {
  const kept = new Map<string, Listener>();
  const releasing = new Map<string, Listener>();
  for (const listener of state.listeners) {
    const f = next.frontends.find((c) => c.name === listener.frontend.name);
    if (f && f.enabled && sameBind(listener, f.bind)) kept.set(f.name, listener);
    else releasing.set(bindKey(listener), listener);
  }
  const handedOver = new Map<string, Listener>();
  const toBind: Array<{ name: string; listener: Listener; stillFailing: boolean }> = [];
  for (const f of next.frontends) {
    if (!f.enabled || kept.has(f.name)) continue;
    const free = releasing.get(`${f.bind.address}:${f.bind.port}`);
    if (free) {
      releasing.delete(bindKey(free));
      handedOver.set(f.name, free);
      continue;
    }
    const known = state.frontends.get(f.name);
    const owner = known ?? new FrontendRuntime(f);
    toBind.push({
      name: f.name,
      listener: new Listener(owner, f.bind.address, f.bind.port, state.host),
      // FAILED before and still bound the same: a change that doesn't touch it must not fail on it.
      stillFailing: known !== undefined && isFailed(known) && sameBindConfig(known.config.bind, f.bind),
    });
  }
  const results = await Promise.allSettled(toBind.map((b) => b.listener.listen()));
  const bound = new Map<string, Listener>();
  const failures: FrontendFailure[] = [];
  let strictFailure: FrontendFailure | undefined;
  results.forEach((result, i) => {
    const { name, listener, stillFailing } = toBind[i];
    if (result.status === 'fulfilled') {
      bound.set(name, listener);
      return;
    }
    const error = result.reason as Error;
    const code =
      error instanceof BindError ? error.code : ((error as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
    const failure = {
      frontend: name,
      code,
      message: `frontend "${name}" cannot bind ${listener.address}:${listener.port}: ${code}`,
    };
    failures.push(failure);
    if (!stillFailing) strictFailure ??= failure;
  });
  const abandon = () => {
    for (const listener of bound.values()) listener.close();
  };
  if (strictFailure !== undefined && !options.tolerateBindErrors) {
    abandon();
    const first = strictFailure;
    throw new RuntimeError('BIND_FAILED', first.message, { frontend: first.frontend }, first.code);
  }
  return {
    listenerFor: (name) => kept.get(name) ?? handedOver.get(name) ?? bound.get(name) ?? null,
    releasing: () => releasing.values(),
    failures,
    abandon,
  };
}

function bindKey(listener: Listener): string {
  return `${listener.address}:${listener.port}`;
}

function sameBindConfig(a: { address: string; port: number }, b: { address: string; port: number }): boolean {
  return a.address === b.address && a.port === b.port;
}

function sameBind(listener: Listener, bind: { address: string; port: number }): boolean {
  return listener.address === bind.address && listener.port === bind.port;
}
