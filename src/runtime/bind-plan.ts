// Which listeners an apply keeps, hands over or binds anew, one per bind of each frontend. A listener
// whose address:port is still wanted goes to the frontend that wants it: kept when that is its
// frontend, handed over (not rebound) when another frontend takes the bind over in the same change.
// Binding is the apply pipeline's only await; on a bind failure this plan closes what it bound, so
// the running listeners are never touched.
import { isIP } from 'node:net';
import type { Bind, Frontend, Snapshot } from '../schema/snapshot.js';
import { RuntimeError } from './errors.js';
import { bindFailure, isFailed } from './bind-retry.js';
import { bindKey, FrontendRuntime } from './frontend.js';
import { Listener } from './listener.js';
import type { RuntimeState } from './state.js';
import type { ApplyOptions, FrontendFailure } from './types.js';

export interface BindPlan {
  /** The listeners a frontend of the new snapshot serves on (one per bind that listens). */
  listenersFor(frontend: string): Listener[];
  /** Listeners no frontend takes any more: closed once the swap is done. */
  releasing(): Iterable<Listener>;
  /**
   * Frontends with a bind that could not bind (the first such bind each): with tolerateBindErrors any;
   * otherwise only binds that were failing already (any other failure makes planning throw).
   */
  readonly failures: FrontendFailure[];
  /** Closes what this plan bound: the apply was abandoned. */
  abandon(): void;
}

interface ToBind {
  frontend: Frontend;
  bind: Bind;
}

/** Which listeners go to which frontend, which go, and which binds need a new listener. */
interface Assignment {
  /** Kept or handed over, by frontend name. */
  reused: Map<string, Listener[]>;
  releasing: Listener[];
  toBind: ToBind[];
}

function assign(state: RuntimeState, next: Snapshot): Assignment {
  // Binds never clash in a checked snapshot, so each address:port is wanted by at most one frontend.
  const wanted = new Map<string, Frontend>();
  for (const f of next.frontends) {
    if (f.enabled) for (const b of f.binds) wanted.set(bindKey(b), f);
  }
  const reused = new Map<string, Listener[]>();
  const releasing: Listener[] = [];
  const taken = new Set<string>();
  for (const listener of state.listeners) {
    const key = bindKey(listener);
    const f = wanted.get(key);
    if (f === undefined) {
      releasing.push(listener);
      continue;
    }
    taken.add(key);
    const list = reused.get(f.name);
    if (list) list.push(listener);
    else reused.set(f.name, [listener]);
  }
  const toBind: ToBind[] = [];
  for (const [key, frontend] of wanted) {
    if (taken.has(key)) continue;
    toBind.push({ frontend, bind: frontend.binds.find((b) => bindKey(b) === key)! });
  }
  return { reused, releasing, toBind };
}

/** The bind was configured and failing already: a change that doesn't touch it must not fail on it. */
function stillFailing(state: RuntimeState, f: Frontend, bind: Bind): boolean {
  const known = state.frontends.get(f.name);
  if (known === undefined || !isFailed(known)) return false;
  const key = bindKey(bind);
  return known.missingBinds().some((b) => bindKey(b) === key);
}

/**
 * A bind that must fail, known without binding: a new listener overlapping one that this change closes (say
 * 127.0.0.1:P becoming 0.0.0.0:P). New listeners are bound before old ones close, so the kernel refuses it
 * (EADDRINUSE); the dry run says so as the change would.
 */
export function predictBindFailure(state: RuntimeState, next: Snapshot): FrontendFailure | undefined {
  return failureKnownBefore(state, assign(state, next));
}

function failureKnownBefore(
  state: RuntimeState,
  { releasing, toBind }: Assignment,
): FrontendFailure | undefined {
  if (releasing.length === 0) return undefined;
  const closing = new Map<number, Listener[]>();
  for (const listener of releasing) {
    const list = closing.get(listener.port) ?? [];
    list.push(listener);
    closing.set(listener.port, list);
  }
  for (const { frontend: f, bind } of toBind) {
    if (stillFailing(state, f, bind)) continue;
    const old = closing.get(bind.port)?.find((l) => overlaps(l.address, bind.address));
    if (old) {
      return {
        frontend: f.name,
        code: 'EADDRINUSE',
        message:
          `frontend "${f.name}" cannot bind ${bind.address}:${bind.port}: EADDRINUSE (it overlaps ` +
          `${old.address}:${old.port}, which closes only once the new listeners are bound; make the change in two steps)`,
        bind: { address: bind.address, port: bind.port },
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
  const assignment = assign(state, next);
  // A bind known to fail is refused before any is tried, in the words the dry run uses.
  const predicted = options.tolerateBindErrors ? undefined : failureKnownBefore(state, assignment);
  if (predicted) {
    throw new RuntimeError(
      'BIND_FAILED',
      predicted.message,
      { frontend: predicted.frontend, bind: predicted.bind },
      predicted.code,
    );
  }
  const { reused, releasing, toBind: binds } = assignment;
  const owners = new Map<string, FrontendRuntime>();
  const toBind = binds.map(({ frontend: f, bind }) => {
    let owner = state.frontends.get(f.name) ?? owners.get(f.name);
    if (owner === undefined) owners.set(f.name, (owner = new FrontendRuntime(f)));
    return {
      name: f.name,
      listener: new Listener(owner, bind.address, bind.port, state.host),
      stillFailing: stillFailing(state, f, bind),
    };
  });
  const results = await Promise.allSettled(toBind.map((b) => b.listener.listen()));
  const bound = new Map<string, Listener[]>();
  const failed = new Map<string, FrontendFailure>();
  let strictFailure: FrontendFailure | undefined;
  results.forEach((result, i) => {
    const { name, listener, stillFailing } = toBind[i];
    if (result.status === 'fulfilled') {
      const list = bound.get(name);
      if (list) list.push(listener);
      else bound.set(name, [listener]);
      return;
    }
    const failure = bindFailure(name, listener, result.reason);
    if (!failed.has(name)) failed.set(name, failure);
    if (!stillFailing) strictFailure ??= failure;
  });
  const abandon = () => {
    for (const list of bound.values()) for (const listener of list) listener.close();
  };
  if (strictFailure !== undefined && !options.tolerateBindErrors) {
    abandon();
    const first = strictFailure;
    throw new RuntimeError(
      'BIND_FAILED',
      first.message,
      { frontend: first.frontend, bind: first.bind },
      first.code,
    );
  }
  return {
    listenersFor: (name) => [...(reused.get(name) ?? []), ...(bound.get(name) ?? [])],
    releasing: () => releasing,
    failures: [...failed.values()],
    abandon,
  };
}
