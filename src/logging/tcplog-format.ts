// HAProxy's default `option tcplog` line (docs/session-logs.md):
//   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
// so that tools and habits built on HAProxy's logs read Tether's as they are.
import type { SessionEndRecord } from '../runtime/types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

// Sessions ending in the same second share the date up to the seconds: a Date and its formatting once per
// second, not per line (docs/session-logs.md, "Cost").
let cachedSecond = NaN;
let cachedPrefix = '';

/** HAProxy's %t: `05/Dec/2026:13:40:01.123`, in local time as HAProxy prints it. */
export function haproxyDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    cachedPrefix =
      `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
      `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    cachedSecond = second;
  }
  return cachedPrefix + pad3(ms - second * 1000);
}

/** The tcplog line of one ended session, without a trailing newline. */
export function tcplogLine(r: SessionEndRecord): string {
  // HAProxy prints an IPv6 client address bare (no brackets) before ':port'.
  const retries = r.redispatched ? `+${r.retries}` : String(r.retries);
  return (
    `${r.clientAddress}:${r.clientPort} [${haproxyDate(r.acceptedAt)}] ${r.frontend} ` +
    `${r.backend}/${r.server ?? '<NOSRV>'} ${r.tw}/${r.tc}/${r.tt} ${r.bytesRead} ${r.termination} ` +
    `${r.actconn}/${r.feconn}/${r.beconn}/${r.srvConn}/${retries} ${r.srvQueue}/${r.backendQueue}`
  );
}
