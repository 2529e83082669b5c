// npm run sim:sp -- --connect 127.0.0.1:9999 --account 901234 --secret s --rate 1000 --window 16
//   [--connections N] [--src 127.0.0.X] [--version 3.0|2.0] [--total N] [--resend-ms 60000] [--no-reports]
// Prints sent/acknowledged/latency each second; Ctrl-C stops gracefully (waits for answers, TERMINATE).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSp } from './sp.js';

const { values } = parseArgs({
  options: {
    connect: { type: 'string', default: '127.0.0.1:9999' },
    account: { type: 'string', default: '901234' },
    secret: { type: 'string', default: 's' },
    rate: { type: 'string', default: '1000' },
    window: { type: 'string', default: '16' },
    connections: { type: 'string', default: '1' },
    src: { type: 'string' },
    version: { type: 'string', default: '3.0' },
    total: { type: 'string' },
    'resend-ms': { type: 'string', default: '60000' },
    'no-reports': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

// Piped into `head` and the like: a closed stdout ends the simulator quietly.
process.stdout.on('error', () => process.exit(0));

function fail(message: string): never {
  process.stderr.write(`sim:sp: ${message}\n`);
  process.exit(2);
}
function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${text}`);
  return n;
}

if (values.help) {
  process.stdout.write(
    readFileSync(new URL(import.meta.url))
      .toString()
      .split('\n')
      .slice(0, 3)
      .join('\n') + '\n',
  );
  process.exit(0);
}
const at = values.connect.lastIndexOf(':');
const host = values.connect.slice(0, at).replace(/^\[|\]$/g, '');
const port = Number(values.connect.slice(at + 1));
if (at < 0 || !Number.isInteger(port) || port < 1 || port > 65535)
  fail(`bad --connect ${values.connect} (host:port)`);
if (values.version !== '3.0' && values.version !== '2.0') fail('--version must be 3.0 or 2.0');
if (Buffer.byteLength(values.account) > 6) fail('--account is at most 6 bytes');

const sp = startSp({
  host,
  port,
  account: values.account,
  secret: values.secret,
  version: values.version,
  rate: positive('rate', values.rate),
  window: positive('window', values.window),
  connections: positive('connections', values.connections),
  localAddress: values.src,
  total: values.total === undefined ? undefined : positive('total', values.total),
  resendMs: positive('resend-ms', values['resend-ms']),
  reports: !values['no-reports'],
});
process.stdout.write(
  `sim:sp ${values.account} -> ${host}:${port}${values.src ? ` from ${values.src}` : ''}\n`,
);

const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(2)}ms`);
let previous = sp.counters();
let seconds = 0;
const timer = setInterval(() => {
  const c = sp.counters();
  const l = sp.latency(true);
  seconds++;
  const failures = Object.entries(c.loginFailures)
    .map(([status, n]) => `${status}:${n}`)
    .join(' ');
  process.stdout.write(
    `t=${seconds}s conns=${c.connected} sent=${c.sent - previous.sent}/s acked=${c.acked - previous.acked}/s ` +
      `throttled=${c.throttled - previous.throttled}/s resent=${c.resent} reports=${c.reports} ` +
      `outstanding=${c.outstanding} queued=${c.queued} p50=${ms(l.p50)} p99=${ms(l.p99)}` +
      (failures ? ` loginFailures[${failures}]` : '') +
      '\n',
  );
  previous = c;
}, 1000);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(timer);
    void sp.stop().then(() => {
      const c = sp.counters();
      const l = sp.latency();
      process.stdout.write(
        `total sent=${c.sent} acked=${c.acked} throttled=${c.throttled} failed=${c.failed} expired=${c.expired} ` +
          `resent=${c.resent} reports=${c.reports} p50=${ms(l.p50)} p99=${ms(l.p99)}\n`,
      );
      process.exit(0);
    });
  });
}
