// Issue 9, point 4: a shell script written for HAProxy's stats socket (test/socket/fixtures/haproxy-ops.sh: socat,
// awk reading `show stat` columns by header name, `;` chains, mistakes, prompt mode) run unchanged against a real
// HAProxy 2.6 and against Tether configured alike prints the same thing, digits aside (weights' "initial" values
// and counters differ: in Tether a weight is config, a revision).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { configure } from '../stats/setup.js';
import { echoServer, type EchoServer } from '../stats/tcp.js';
import { socatMissing } from './cli.js';

const SCRIPT = fileURLToPath(new URL('fixtures/haproxy-ops.sh', import.meta.url));
const missing = haproxyMissing() ?? socatMissing();
if (missing) console.warn(`skipping the HAProxy script comparison: ${missing}`);

/** Runs the script (asynchronously: the app under test is in this process) and returns what it printed. */
function runScript(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [SCRIPT, socket, 'be', 's1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`the script exited ${code}: ${err}\n${out}`));
    });
  });
}

describe.skipIf(missing !== undefined)('an operator script written for HAProxy', () => {
  let started: StartedApp;
  let haproxy: Haproxy;
  let dir: string;
  let ours: string;
  const upstreams: EchoServer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-script-'));
    ours = join(dir, 'tether.sock');
    for (let i = 0; i < 2; i++) upstreams.push(await echoServer());
    const [p1, p2] = upstreams.map((u) => u.port) as [number, number];
    started = await startApp({ env: { TETHER_SOCKET: ours } });
    await configure(started, {
      frontend: 'fe',
      backend: 'be',
      port: await freePort(),
      servers: [
        { name: 's1', port: p1, weight: 2, check: false },
        { name: 's2', port: p2, check: false },
      ],
    });
    haproxy = await startHaproxy(
      [
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 1h',
        '  timeout server 1h',
        'frontend fe',
        `  bind 127.0.0.1:${await freePort()}`,
        '  default_backend be',
        'backend be',
        '  balance roundrobin',
        `  server s1 127.0.0.1:${p1} weight 2`,
        `  server s2 127.0.0.1:${p2}`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await haproxy?.stop();
    await started?.close();
    for (const u of upstreams) await u.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the same with either socket, digits aside, and leaves the same states and weights', async () => {
    const theirs = await runScript(haproxy.socketPath);
    const tethers = await runScript(ours);
    expect(theirs).toContain('status=DRAIN');
    const digitsAside = (text: string) => text.replace(/\d+/g, 'N');
    expect(digitsAside(tethers)).toBe(digitsAside(theirs));
    // The values that are the same by design: states, admin states and the weight as served.
    const values = (text: string) =>
      text.split('\n').filter((l) => /^(status|srv_admin_state|weight)=/.test(l));
    expect(values(tethers)).toEqual(values(theirs));
    const weights = await started.request.get('/api/v1/backends/be').expect(200);
    expect(weights.body.servers.find((s: { name: string }) => s.name === 's1').weight).toBe(2);
  });
});
