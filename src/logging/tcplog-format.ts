// HAProxy's default `option tcplog` line (docs/session-logs.md):
//   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
// so that tools and habits built on HAProxy's logs read Tether's as they are.
import type { SessionEndRecord } from '../runtime/types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** HAProxy's %t: `05/Dec/2026:13:40:01.123`, in local time as HAProxy prints it. */
export function haproxyDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`
  );
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
