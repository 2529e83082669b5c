// Issue 10, the CI-sized versions of points 2 and 5, on the compiled appliance with 2 worker processes:
// 5,000 long connections from 50 source addresses held with heartbeats (none dropped, every heartbeat
// answered, the stats API answering); 200 changes through the REST API while 1,000 connections carry
// traffic (no connection cut, no byte lost; request-to-live printed, a generous bound asserted).
import net, { type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { echo, listen, sleep, type TestServer } from '../helpers/net.js';
import { applianceWithWorkers, percentile, pollStats, timeChanges } from './appliance.js';

let compiled: CompiledApp;
let upstream: TestServer;
beforeAll(async () => {
  compiled = await compileApp();
  upstream = await listen(echo);
}, 120_000);
afterAll(async () => {
  await upstream?.close();
  compiled?.remove();
});

/** A client that sends numbered lines and checks every byte comes back in order. */
class Peer {
  sent = '';
  received = '';
  closed = false;
  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (this.received += text));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  send(text: string): void {
    this.sent += text;
    this.socket.write(text);
  }
  get answered(): boolean {
    return this.received === this.sent;
  }
  /** Keeps the checked prefix short: the strings don't grow with the test. */
  trim(): void {
    if (this.answered) {
      this.sent = '';
      this.received = '';
    }
  }
}

async function openPeers(port: number, count: number, sources: number, batch = 250): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let start = 0; start < count; start += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const i = start + k;
        return new Promise<Peer>((resolve, reject) => {
          const socket = net.connect({
            host: '127.0.0.1',
            port,
            localAddress: `127.0.0.${2 + (i % sources)}`,
          });
          socket.once('connect', () => resolve(new Peer(socket)));
          socket.once('error', reject);
        });
      }),
    );
    peers.push(...opened);
  }
  return peers;
}

async function untilAnswered(peers: Peer[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing = peers.filter((p) => !p.answered).length;
    if (missing === 0 || Date.now() > deadline) return missing;
    await sleep(50);
  }
}

describe('two workers under load', () => {
  it('hold 5,000 connections from 50 sources with heartbeats: none dropped, every heartbeat answered', async () => {
    const running = await applianceWithWorkers(compiled.main, upstream, 2);
    let peers: Peer[] = [];
    try {
      const t0 = Date.now();
      peers = await openPeers(running.port, 5000, 50);
      const openedMs = Date.now() - t0;
      // connect() resolves once the kernel queued the connection; the workers accept a moment later.
      let stats = (await running.api.get('/api/v1/stats').expect(200)).body;
      for (let i = 0; stats.frontends[0].scur < 5000 && i < 600; i++) {
        await sleep(50);
        stats = (await running.api.get('/api/v1/stats').expect(200)).body;
      }
      expect(stats.frontends[0].scur).toBe(5000);
      await sleep(500); // one worker report interval, for the per-worker counts
      stats = (await running.api.get('/api/v1/stats').expect(200)).body;
      const perWorker = stats.workers.map((w: { sessions: number }) => w.sessions);

      // Heartbeat rounds (the CI stand-in for a CMPP ACTIVE_TEST every 30 s), stats polled meanwhile.
      const poller = pollStats(running.url, running.token);
      for (let round = 0; round < 3; round++) {
        peers.forEach((p, i) => p.send(`hb ${round} ${i}\n`));
        expect(await untilAnswered(peers, 30_000)).toBe(0);
        for (const p of peers) p.trim();
        await sleep(1000);
      }
      const statsMs = await poller.stop();
      const after = (await running.api.get('/api/v1/stats').expect(200)).body;
      const rss = after.workers.map((w: { rssBytes: number }) => w.rssBytes);
      console.log(
        `5,000 connections over 2 workers: opened in ${openedMs} ms, per worker ${JSON.stringify(perWorker)}; ` +
          `stats p99 ${percentile(statsMs, 99)} ms (n=${statsMs.length}); worker RSS ${rss.map((b: number) => `${(b / 1e6).toFixed(0)} MB`).join(', ')}`,
      );
      expect(peers.filter((p) => p.closed)).toHaveLength(0);
      expect(after.frontends[0].scur).toBe(5000);
      expect(after.workers.every((w: { restarts: number }) => w.restarts === 0)).toBe(true);
      expect(Math.min(...perWorker)).toBeGreaterThan(0);
      // Generous: the issue's 200 ms is for the bench machine; this machine's CPUs are shared.
      expect(percentile(statsMs, 99)).toBeLessThan(2000);
    } finally {
      for (const p of peers) p.socket.destroy();
      running.stop();
    }
  }, 180_000);

  it('take 200 REST changes while 1,000 connections carry traffic: none cut, nothing lost', async () => {
    // TETHER_TEST_CPU_PROF=<dir>: the appliance (and its workers) write V8 CPU profiles there, to see where a
    // change's time goes (docs/workers.md, "Measured").
    const profileDir = process.env.TETHER_TEST_CPU_PROF;
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const running = await applianceWithWorkers(compiled.main, upstream, 2, { maxconn: 5000 }, { nodeArgs });
    let peers: Peer[] = [];
    try {
      peers = await openPeers(running.port, 1000, 50);
      for (let i = 0; i < 600; i++) {
        if ((await running.api.get('/api/v1/stats').expect(200)).body.frontends[0].scur === 1000) break;
        await sleep(50);
      }
      let traffic = true;
      let sent = 0;
      const sender = (async () => {
        for (let n = 0; traffic; n++) {
          for (let i = n % 4; i < peers.length; i += 4) peers[i].send(`m ${n} ${i}\n`);
          sent += peers.length / 4;
          await sleep(20);
        }
      })();
      // The changes come from their own process (timeChanges): the traffic above keeps this one busy.
      const changes = await timeChanges(running.url, running.token, 200, 5000);
      expect(changes.failures).toEqual([]);
      const requestMs = changes.ms;
      traffic = false;
      await sender;
      expect(await untilAnswered(peers, 30_000)).toBe(0);
      const stats = (await running.api.get('/api/v1/stats').expect(200)).body;
      const p50p99 = (values: number[]) => `p50 ${percentile(values, 50)} p99 ${percentile(values, 99)}`;
      // The server's own part of request-to-live: from the request reaching its route until every worker runs it.
      const serverLive = ['auth', 'turn', 'checks', 'rehearse', 'apply'].reduce(
        (sum, step) => sum.map((ms, i) => ms + (changes.steps[step]?.[i] ?? NaN)),
        changes.liveMs.map(() => 0),
      );
      expect(serverLive.every(Number.isFinite)).toBe(true);
      console.log(
        `200 changes over 2 workers with 1,000 connections (${sent} messages), load average ${loadavg()[0].toFixed(1)}: ` +
          `request-to-live ${p50p99(changes.liveMs)} ms (in the server ${p50p99(serverLive.map(Math.round))}); request-to-answer ${p50p99(requestMs)} ms, max ${Math.max(...requestMs)} ms; ` +
          `server steps (ms): ${Object.entries(changes.steps)
            .map(([step, ms]) => `${step} ${p50p99(ms)}`)
            .join('; ')}`,
      );
      expect(peers.filter((p) => p.closed)).toHaveLength(0);
      expect(stats.frontends[0].scur).toBe(1000);
      expect(stats.frontends[0].slim).toBe(5000 + 199);
      // Generous (the issue's 50 ms is for the bench machine): here 2 shared cores run ~6 agents, the test's own
      // 12,000 messages/s and the appliance; timed from its own process, request-to-live p99 was 86-274 ms at a load
      // average of 9-14 (docs/workers.md, "Measured").
      expect(percentile(requestMs, 99)).toBeLessThan(1500);
      expect(percentile(changes.liveMs, 99)).toBeLessThan(1500);
    } finally {
      for (const p of peers) p.socket.destroy();
      if (profileDir) {
        // A profile is written at a normal exit only.
        running.appliance.child.kill('SIGTERM');
        await running.appliance.exited;
      }
      running.stop();
    }
  }, 180_000);
});
