// npm run sim:gateway -- --ports 9315,9316,9317 [--accounts file.json] [--version 3.0|2.0] [--throttle 500/s]
//   [--host 127.0.0.1] [--no-reports]
// Accounts file: a JSON array of { account, secret, maxConnections?, allowedIps?, status? } (src/sim/gateway.ts).
// Without one the gateway knows 901234, 901235 and 901236, each with the secret "s".
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ACCOUNTS, type GatewayAccount, startGateway } from './gateway.js';

const { values } = parseArgs({
  options: {
    ports: { type: 'string', default: '9315,9316,9317' },
    host: { type: 'string', default: '127.0.0.1' },
    accounts: { type: 'string' },
    version: { type: 'string', default: '3.0' },
    throttle: { type: 'string', default: '0' },
    'no-reports': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

// Piped into `head` and the like: a closed stdout ends the simulator quietly.
process.stdout.on('error', () => process.exit(0));

function fail(message: string): never {
  process.stderr.write(`sim:gateway: ${message}\n`);
  process.exit(2);
}

if (values.help) {
  process.stdout.write(
    readFileSync(new URL(import.meta.url))
      .toString()
      .split('\n')
      .slice(0, 4)
      .join('\n') + '\n',
  );
  process.exit(0);
}
const ports = values.ports.split(',').map((p) => Number(p.trim()));
if (ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) fail(`bad --ports ${values.ports}`);
if (values.version !== '3.0' && values.version !== '2.0') fail('--version must be 3.0 or 2.0');
const throttle = Number(values.throttle.replace(/\/s$/, ''));
if (!Number.isInteger(throttle) || throttle < 0) fail(`bad --throttle ${values.throttle} (e.g. 500/s)`);
let accounts: GatewayAccount[] = DEFAULT_ACCOUNTS;
if (values.accounts) {
  try {
    accounts = JSON.parse(readFileSync(values.accounts, 'utf8')) as GatewayAccount[];
    if (
      !Array.isArray(accounts) ||
      accounts.some((a) => typeof a.account !== 'string' || typeof a.secret !== 'string')
    )
      throw new Error('expected an array of { account, secret }');
  } catch (err) {
    fail(`--accounts ${values.accounts}: ${(err as Error).message}`);
  }
}

const gateway = await startGateway({
  ports,
  host: values.host,
  accounts,
  version: values.version,
  throttle,
  reports: !values['no-reports'],
}).catch((err: Error) => fail(err.message));

process.stdout.write(
  `sim:gateway CMPP ${values.version} on ${values.host}:${gateway.ports.join(',')}; accounts ${accounts.map((a) => a.account).join(', ')}` +
    (throttle ? `; throttle ${throttle}/s per account and node` : '') +
    '\n',
);

let previous = gateway.counters();
const timer = setInterval(() => {
  const now = gateway.counters();
  const line = now
    .map((n, i) => {
      const before = previous[i];
      const logins = Object.entries(n.logins)
        .map(([status, count]) => `${status}:${count}`)
        .join(' ');
      return `:${n.port} conns=${n.open} submit/s=${n.submits - before.submits} throttled/s=${n.throttled - before.throttled} reports=${n.reportsAcked}/${n.reportsSent} logins[${logins}]`;
    })
    .join(' | ');
  previous = now;
  process.stdout.write(`${line}\n`);
}, 1000);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(timer);
    void gateway.close().then(() => process.exit(0));
  });
}
