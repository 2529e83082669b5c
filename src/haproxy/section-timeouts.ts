// The timeouts of the imported sections: HAProxy's `timeout client` is a frontend property, `timeout
// connect|server|tunnel` backend ones, each inherited from the `defaults` section before it. Tether has the
// same (docs/config-model.md): `defaults.timeouts` and a section's own `timeouts`. The value most sections use
// becomes `defaults.timeouts` (ties: the first section's), the others the sections' own, so a file whose
// sections agree imports with no override at all, and an exported config imports back as it was.
import { DEFAULT_DEFAULTS, type Backend, type Frontend, type Timeouts } from '../schema/snapshot.js';
import type { Findings } from './parse.js';
import type { ProxyState, Sourced } from './proxy.js';

type Key = 'client' | 'connect' | 'server';

/** Sets the frontends' and backends' own timeouts; returns the `defaults.timeouts` values they differ from. */
export function sectionTimeouts(
  frontends: Array<[Frontend, ProxyState]>,
  backends: Array<[Backend, ProxyState]>,
  findings: Findings,
): Partial<Timeouts> {
  const defaults: Partial<Timeouts> = {};
  // No frontend: the client timeout the backend-side sections inherited from their `defaults` (what a frontend
  // there would have), so a config without frontends keeps its own; Tether's default when none has one.
  const client = frontends.length > 0 ? common('client', frontends, findings) : inherited('client', backends);
  defaults.client = client;
  for (const [frontend, proxy] of frontends) {
    const own = proxy.timeouts.client?.value;
    if (own !== undefined && own !== client) frontend.timeouts = { client: own };
  }
  const connect = common('connect', backends, findings);
  const server = common('server', backends, findings);
  defaults.connect = connect;
  defaults.server = server;
  // A tunnel timeout is in `defaults` only when every backend has one: a backend can't say "none" for itself.
  const everyTunnel = backends.length > 0 && backends.every(([, p]) => p.timeouts.tunnel !== undefined);
  const tunnel = everyTunnel ? plurality(backends.map(([, p]) => p.timeouts.tunnel!)) : undefined;
  if (tunnel !== undefined) defaults.tunnel = tunnel;
  for (const [backend, proxy] of backends) {
    const own: NonNullable<Backend['timeouts']> = {};
    const t = proxy.timeouts;
    if (t.connect !== undefined && t.connect.value !== connect) own.connect = t.connect.value;
    if (t.server !== undefined && t.server.value !== server) own.server = t.server.value;
    if (t.tunnel !== undefined && t.tunnel.value !== tunnel) own.tunnel = t.tunnel.value;
    if (Object.keys(own).length > 0) backend.timeouts = own;
  }
  return defaults;
}

/**
 * The value of `key` most sections use, or Tether's default when none sets it. A section without one (HAProxy
 * would never time it out, and warns) uses that value too, which is said.
 */
function common(key: Key, sections: Array<[unknown, ProxyState]>, findings: Findings): number {
  const set = sections.flatMap(([, p]) => (p.timeouts[key] ? [p.timeouts[key]] : []));
  const value = set.length === 0 ? DEFAULT_DEFAULTS.timeouts[key] : plurality(set);
  if (set.length === 0) {
    if (sections.length > 0)
      findings.warn(
        undefined,
        `no \`timeout ${key}\` in the imported sections: Tether's default ${value} ms applies`,
      );
    return value;
  }
  for (const [, p] of sections) {
    if (p.timeouts[key] === undefined)
      findings.warn(
        p.at,
        `${p.kind} "${p.name}" has no \`timeout ${key}\` (HAProxy would never time it out): Tether uses ${value} ms, the other sections' value`,
      );
  }
  return value;
}

/** The value of `key` most sections have (their own or from `defaults`), Tether's default when none has one. */
function inherited(key: Key, sections: Array<[unknown, ProxyState]>): number {
  const set = sections.flatMap(([, p]) => (p.timeouts[key] ? [p.timeouts[key]] : []));
  return set.length === 0 ? DEFAULT_DEFAULTS.timeouts[key] : plurality(set);
}

/** The most frequent value; among equally frequent ones, the first seen. Linear. */
function plurality(values: Array<Sourced<number>>): number {
  const counts = new Map<number, number>();
  let best = values[0].value;
  for (const { value } of values) {
    const n = (counts.get(value) ?? 0) + 1;
    counts.set(value, n);
    if (n > counts.get(best)!) best = value;
  }
  return best;
}
