// `retries` and `option redispatch` of an imported backend (docs/haproxy-import.md, "Retries"). A backend
// that says something about either gets HAProxy's meaning (its defaults: 3 retries, no redispatch); one that
// says nothing keeps Tether's default (1 retry, redispatched: what Tether's export writes for it), with a
// warning, as HAProxy would behave otherwise.
import { DEFAULT_REDISPATCH, DEFAULT_RETRIES, type Backend } from '../schema/snapshot.js';
import type { Findings } from './parse.js';
import type { ProxyState } from './proxy.js';

/** HAProxy 2.6's own values when a section has no `retries` / `option redispatch`. */
const HAPROXY_RETRIES = 3;
const HAPROXY_REDISPATCH = false;

export function retriesOf(proxy: ProxyState, findings: Findings): Pick<Backend, 'retries' | 'redispatch'> {
  if (proxy.retries === undefined && proxy.redispatch === undefined) {
    findings.warn(
      proxy.at,
      `${proxy.kind} "${proxy.name}" has no \`retries\` or \`option redispatch\`: HAProxy would retry a failed connect ${HAPROXY_RETRIES} times on the same server; Tether keeps its default, ${DEFAULT_RETRIES} retry on another server when there is one (write them to choose)`,
    );
    return {};
  }
  const retries = proxy.retries?.value ?? HAPROXY_RETRIES;
  const redispatch = proxy.redispatch?.value ?? HAPROXY_REDISPATCH;
  // Tether's defaults are left absent, so that a file written by Tether's export imports back as it was.
  return {
    ...(retries !== DEFAULT_RETRIES ? { retries } : {}),
    ...(redispatch !== DEFAULT_REDISPATCH ? { redispatch } : {}),
  };
}
