// Which listeners an apply keeps, hands over or binds anew. A listener whose frontend keeps its bind
// is kept; one whose bind is taken over by another frontend in the same change is handed over instead
// of rebound. Binding is the apply pipeline's only await; on a bind failure this plan closes what it
// bound, so the running listeners are never touched.
import { isIP } from 'node:net';
import type { Frontend, Snapshot } from '../schema/snapshot.js';
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

/** Which listeners stay with their frontend, which a changed frontend takes over, which go, and what binds anew. */
interface Assignment {
  kept: Map<string, Listener>;
  handedOver: Map<string, Listener>;
  releasing: Map<string, Listener>;
  /** Enabled frontends of `next` that need a new listener. */
  toBind: Frontend[];
}

function assign(state: RuntimeState, next: Snapshot): Assignment {
  const byName = new Map(next.frontends.map((f) => [f.name, f]));
  const kept = new Map<string, Listener>();
  const releasing = new Map<string, Listener>();
  for (const listener of state.listeners) {
    const f = byName.get(listener.frontend.name);
    if (f && f.enabled && sameBind(listener, f.bind)) kept.set(f.name, listener);
    else releasing.set(bindKey(listener), listener);
  }
  const handedOver = new Map<string, Listener>();
  const toBind: Frontend[] = [];
  for (const f of next.frontends) {
    if (!f.enabled || kept.has(f.name)) continue;
    const free = releasing.get(`${f.bind.address}:${f.bind.port}`);
    if (free) {
      releasing.delete(bindKey(free));
      handedOver.set(f.name, free);
    } else toBind.push(f);
  }
  return { kept, handedOver, releasing, toBind };
}

/**
 * A bind that must fail, known without binding: a new listener overlapping one that this change closes (say
 * 127.0.0.1:P becoming 0.0.0.0:P). New listeners are bound before old ones close, so the kernel refuses it
 * (EADDRINUSE); the dry run says so as the change would.
 */
export function predictBindFailure(state: RuntimeState, next: Snapshot): FrontendFailure | undefined {
  const { releasing, toBind } = assign(state, next);
  if (releasing.size === 0) return undefined;
  const closing = new Map<number, Listener[]>();
  for (const listener of releasing.values()) {
    const list = closing.get(listener.port) ?? [];
    list.push(listener);
    closing.set(listener.port, list);
  }
  for (const f of toBind) {
    const known = state.frontends.get(f.name);
    if (known !== undefined && isFailed(known) && sameBindConfig(known.config.bind, f.bind)) continue;
    const old = closing.get(f.bind.port)?.find((l) => overlaps(l.address, f.bind.address));
    if (old) {
      return {
        frontend: f.name,
        code: 'EADDRINUSE',
        message:
          `frontend "${f.name}" cannot bind ${f.bind.address}:${f.bind.port}: EADDRINUSE (it overlaps ` +
          `${old.address}:${old.port}, which closes only once the new listeners are bound; make the change in two steps)`,
      };
    }
  }
  return undefined;
}

/** Linux's view of two binds on one port: the same address, `::` (dual-stack) against any, `0.0.0.0` against IPv4. */
function overlaps(a: string, b: string): boolean {
  if (a === b || a === '::' || b === '::') return true;
  return (a === '0.0.0.0' && isIP(b) === 4) || (b === '0.0.0.0' && isIP(a) === 4);
}

export async function planBinds(
  state: RuntimeState,
  next: Snapshot,
  options: ApplyOptions,
): Promise<BindPlan> {
  const { kept, handedOver, releasing, toBind: frontends } = assign(state, next);
  const toBind = frontends.map((f) => {
    const known = state.frontends.get(f.name);
    const owner = known ?? new FrontendRuntime(f);
    return {
      name: f.name,
      listener: new Listener(owner, f.bind.address, f.bind.port, state.host),
      // FAILED before and still bound the same: a change that doesn't touch it must not fail on it.
      stillFailing: known !== undefined && isFailed(known) && sameBindConfig(known.config.bind, f.bind),
    };
  });
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
