// The compiled appliance with worker processes, for the load tests: a stored config, started under
// TETHER_WORKERS, logged in, waited for until every worker runs.
import { spawn } from 'node:child_process';
import type { TestServer } from '../helpers/net.js';
import { tempDbPath } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD, loginToken, withBearer, type Client } from '../helpers/auth.js';
import { startAppliance, untilListening, type ApplianceProcess } from '../helpers/compiled-app.js';
import { freePort, sleep } from '../helpers/net.js';
import { appWithStoredRoute } from '../helpers/stored-route.js';

export interface RunningAppliance {
  appliance: ApplianceProcess;
  api: Client;
  url: string;
  token: string;
  /** The frontend's port ('fe' -> backend 'b' -> server 's' = upstream). */
  port: number;
  stop(): void;
}

export async function applianceWithWorkers(
  main: string,
  upstream: TestServer,
  workers: number,
  frontendExtra: Record<string, unknown> = {},
): Promise<RunningAppliance> {
  const db = tempDbPath();
  const port = await freePort();
  const httpPort = await freePort();
  await (await appWithStoredRoute(db.dbPath, upstream.port, port, frontendExtra)).close();
  const appliance = startAppliance(main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: 'log',
    TETHER_WORKERS: String(workers),
    TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  });
  const stop = () => {
    appliance.child.kill('SIGKILL');
    db.cleanup();
  };
  try {
    await untilListening(appliance);
    const url = `http://127.0.0.1:${httpPort}`;
    const token = await loginToken(url, 'admin', TEST_ADMIN_PASSWORD);
    const api = withBearer(url, token);
    for (let i = 0; ; i++) {
      const res = await api.get('/api/v1/stats');
      const running = (res.body.workers ?? []).filter((w: { state: string }) => w.state === 'running');
      if (res.status === 200 && running.length === workers && res.body.frontends.length > 0) break;
      if (i > 400) throw new Error(`the workers did not start:\n${appliance.output()}`);
      await sleep(50);
    }
    return { appliance, api, url, token, port, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** p-th percentile (0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Polls GET /api/v1/stats every `everyMs` from its own process (so the test's own sockets don't delay the
 * answers it times); stop() resolves with the latencies in ms.
 */
export function pollStats(url: string, token: string, everyMs = 100): { stop(): Promise<number[]> } {
  const script = `
    const times = [];
    let on = true;
    process.stdin.on('data', () => (on = false));
    (async () => {
      while (on) {
        const s = performance.now();
        const res = await fetch(process.argv[1] + '/api/v1/stats', { headers: { authorization: 'Bearer ' + process.argv[2] } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error('stats answered ' + res.status);
        times.push(Math.round(performance.now() - s));
        await new Promise((r) => setTimeout(r, ${everyMs}));
      }
      process.stdout.write(JSON.stringify(times));
      process.exit(0);
    })();`;
  const child = spawn(process.execPath, ['-e', script, url, token], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    stop: async () => {
      child.stdin.write('stop\n');
      const code = await exited;
      if (code !== 0) throw new Error(`the stats poller exited with ${code}`);
      return JSON.parse(out) as number[];
    },
  };
}

/**
 * Makes `count` live changes through the REST API from its own process, one after the other, alternately a
 * server's weight (`b/s`) and the frontend's maxconn (`fe`: `maxconnBase + i`, split over the workers), and
 * times each from request to answer (the answer comes once every worker runs the change). Its own process,
 * so that the load a test generates in its own event loop doesn't delay the answers it times.
 */
export async function timeChanges(
  url: string,
  token: string,
  count: number,
  maxconnBase: number,
): Promise<{ ms: number[]; failures: string[] }> {
  const script = `
    const [url, token, count, base] = [process.argv[1], process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
    const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
    (async () => {
      const ms = [];
      const failures = [];
      for (let i = 0; i < count; i++) {
        const [path, body] = i % 2 === 0
          ? ['/api/v1/backends/b/servers/s', { weight: 1 + (i % 7) }]
          : ['/api/v1/frontends/fe', { maxconn: base + i }];
        const s = performance.now();
        const res = await fetch(url + path, { method: 'PATCH', headers, body: JSON.stringify(body) });
        const text = await res.text();
        ms.push(Math.round(performance.now() - s));
        if (res.status !== 200) failures.push(res.status + ' ' + text);
      }
      process.stdout.write(JSON.stringify({ ms, failures }));
      process.exit(0);
    })();`;
  const child = spawn(process.execPath, ['-e', script, url, token, String(count), String(maxconnBase)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the change maker exited with ${code}`);
  return JSON.parse(out) as { ms: number[]; failures: string[] };
}
