// GET /stats/stream (SSE) and GET/DELETE /sessions through the real app, with real clients and servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { StatsService } from '../../src/stats/stats.service.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { configure, setServerState } from './setup.js';
import { openEventStream } from './sse.js';
import { freePort, waitFor } from '../helpers/net.js';
import { connectClient, echoServer, type Client, type EchoServer } from './tcp.js';

interface SessionView {
  id: string;
  frontend: string;
  backend: string;
  server: string | null;
  clientAddress: string;
  clientPort: number;
  startedAt: number;
  ageMs: number;
  idleMs: number;
  bytesIn: number;
  bytesOut: number;
}

describe('live stats stream and sessions', () => {
  let started: StartedApp;
  let gw1: EchoServer;
  let gw2: EchoServer;
  let port: number;
  const clients: Client[] = [];

  beforeAll(async () => {
    [gw1, gw2] = await Promise.all([echoServer(), echoServer()]);
    started = await startApp();
    port = await freePort();
    await configure(started, {
      frontend: 'sms',
      backend: 'ismg',
      port,
      balance: 'roundrobin',
      servers: [
        { name: 'gw1', port: gw1.port },
        { name: 'gw2', port: gw2.port },
      ],
    });
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await started?.close();
    await Promise.all([gw1?.close(), gw2?.close()]);
  });

  async function viewerHeaders(): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await started.tokenFor('viewer')}` };
  }

  describe('GET /stats/stream', () => {
    it('sends stats at once and every second, runtime events as they happen, and cleans up on disconnect', async () => {
      const statsService = started.app.get(StatsService, { strict: false });
      const openedBefore = statsService.openStreams;
      const connectedAt = Date.now();
      const stream = await openEventStream(`${started.url}/api/v1/stats/stream`, await viewerHeaders());
      try {
        expect(stream.status).toBe(200);
        expect(stream.contentType).toMatch(/^text\/event-stream/);

        const first = await stream.next((e) => e.type === 'stats', 0, 2000);
        expect(first.receivedAt - connectedAt).toBeLessThan(1000); // immediately, not after the first tick
        const data = first.data as RuntimeStats & { serverTime: number };
        expect(data.frontends.map((f) => f.name)).toEqual(['sms']);
        expect(data.backends[0]!.servers.map((s) => s.name)).toEqual(['gw1', 'gw2']);
        expect(Math.abs(data.serverTime - Date.now())).toBeLessThan(5000);
        expect(statsService.openStreams).toBe(openedBefore + 1);

        const index = stream.events.indexOf(first) + 1;
        const second = await stream.next((e) => e.type === 'stats', index, 3000);
        const gap = second.receivedAt - first.receivedAt;
        expect(gap).toBeGreaterThan(500);
        expect(gap).toBeLessThan(2000);

        // An admin-state change reaches the stream at once, as its own event type.
        const mark = stream.events.length;
        const changedAt = Date.now();
        await setServerState(started, 'ismg', 'gw2', 'drain');
        const event = await stream.next((e) => e.type === 'admin-state', mark, 2000);
        expect(event.receivedAt - changedAt).toBeLessThan(1000); // its own event, not the next tick
        expect(event.data).toMatchObject({
          type: 'admin-state',
          backend: 'ismg',
          server: 'gw2',
          from: 'ready',
          to: 'drain',
        });
        const drained = await stream.next(
          (e) =>
            e.type === 'stats' &&
            (e.data as RuntimeStats).backends[0]!.servers.some(
              (s) => s.name === 'gw2' && s.adminState === 'drain',
            ),
          mark,
          3000,
        );
        expect(drained).toBeDefined();
      } finally {
        stream.close();
        await setServerState(started, 'ismg', 'gw2', 'ready');
      }
      await waitFor(() => statsService.openStreams === openedBefore, 3000, 'the stream to be released');
    });

    it('forwards a health change (server process gone) as a health event', async () => {
      const lone = await echoServer();
      await configure(started, {
        frontend: 'probe-fe',
        backend: 'probe-be',
        port: await freePort(),
        servers: [{ name: 'p1', port: lone.port }],
      });
      const stream = await openEventStream(`${started.url}/api/v1/stats/stream`, await viewerHeaders());
      try {
        await stream.next(
          (e) =>
            e.type === 'stats' &&
            (e.data as RuntimeStats).backends.some(
              (b) => b.name === 'probe-be' && b.servers[0]!.health === 'UP',
            ),
          0,
          5000,
        );
        const mark = stream.events.length;
        await lone.close();
        // inter 500 × fall 3, plus a second of slack.
        const down = await stream.next((e) => e.type === 'health', mark, 2500);
        expect(down.data).toMatchObject({
          type: 'health',
          backend: 'probe-be',
          server: 'p1',
          from: 'UP',
          to: 'DOWN',
        });
      } finally {
        stream.close();
        await lone.close();
      }
    });

    it('refuses an anonymous stream', async () => {
      const stream = await openEventStream(`${started.url}/api/v1/stats/stream`, {});
      stream.close();
      expect(stream.status).toBe(401);
    });
  });

  describe('GET /sessions and DELETE /sessions/:id', () => {
    const list = async (query = ''): Promise<SessionView[]> => {
      const res = await started.request.get(`/api/v1/sessions${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as SessionView[];
    };

    it('lists live connections oldest first with age and idle time, filtered by frontend, backend, server', async () => {
      for (const address of ['127.0.0.21', '127.0.0.22', '127.0.0.23']) {
        const client = await connectClient(port, address);
        clients.push(client);
        await client.roundTrip('hello');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const sessions = (await list()).filter((s) => s.frontend === 'sms');
      expect(sessions.map((s) => s.clientAddress)).toEqual(['127.0.0.21', '127.0.0.22', '127.0.0.23']);
      const startedAts = sessions.map((s) => s.startedAt);
      expect(startedAts).toEqual([...startedAts].sort((a, b) => a - b));
      for (const s of sessions) {
        expect(s).toMatchObject({ backend: 'ismg', bytesIn: 5, bytesOut: 5 });
        expect(s.ageMs).toBeGreaterThanOrEqual(0);
        expect(s.idleMs).toBeGreaterThanOrEqual(0);
        expect(s.idleMs).toBeLessThanOrEqual(s.ageMs + 5);
      }
      expect(sessions[0]!.ageMs).toBeGreaterThanOrEqual(sessions[2]!.ageMs);

      const onGw1 = await list('?backend=ismg&server=gw1');
      expect(onGw1.length).toBeGreaterThan(0);
      expect(onGw1.every((s) => s.server === 'gw1')).toBe(true);
      expect((await list('?frontend=sms')).length).toBe(sessions.length);
      expect(await list('?backend=nope')).toEqual([]);
      const viewer = await started.as('viewer');
      expect((await viewer.get('/api/v1/sessions')).status).toBe(200);
    });

    it('answers at most `limit` sessions, oldest first, with how many matched in X-Total-Count', async () => {
      const all = await started.request.get('/api/v1/sessions?frontend=sms');
      const total = (all.body as SessionView[]).length;
      expect(total).toBeGreaterThanOrEqual(3);
      expect(all.headers['x-total-count']).toBe(String(total));
      const two = await started.request.get('/api/v1/sessions?frontend=sms&limit=2');
      expect(two.status).toBe(200);
      expect((two.body as SessionView[]).map((s) => s.id)).toEqual(
        (all.body as SessionView[]).slice(0, 2).map((s) => s.id),
      );
      expect(two.headers['x-total-count']).toBe(String(total));
      for (const bad of ['0', '10001', 'x', '1.5']) {
        const res = await started.request.get(`/api/v1/sessions?limit=${bad}`);
        expect(res.status, bad).toBe(400);
        expect(res.body.field).toBe('limit');
      }
    });

    it('kills one session: 204, the real client socket closes, the others stay', async () => {
      const [victim, bystander] = [clients.at(-3)!, clients.at(-2)!];
      const sessions = await list('?frontend=sms');
      const target = sessions.find((s) => s.clientPort === victim.socket.localPort)!;
      expect(target).toBeDefined();

      const res = await started.request.delete(`/api/v1/sessions/${encodeURIComponent(target.id)}`);
      expect(res.status).toBe(204);
      await Promise.race([
        victim.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('client socket still open')), 2000)),
      ]);
      expect((await list()).map((s) => s.id)).not.toContain(target.id);
      await bystander.roundTrip('still here'); // the others keep relaying

      const audit = await started.request.get('/api/v1/audit?action=session.kill');
      expect(audit.status).toBe(200);
      expect(audit.body.items[0]).toMatchObject({
        action: 'session.kill',
        actor: 'admin',
        target: target.id,
        result: 'ok',
      });
      expect(audit.body.items[0].detail).toContain('127.0.0.21');
    });

    it('answers 404 naming an unknown id, and audits the failure', async () => {
      const res = await started.request.delete('/api/v1/sessions/no-such-session');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(res.body.message).toContain('no-such-session');
      const audit = await started.request.get('/api/v1/audit?action=session.kill&result=failed');
      expect(audit.body.items[0]).toMatchObject({ target: 'no-such-session', result: 'failed' });
    });

    it('lets only an operator or admin kill a session', async () => {
      const victim = clients.at(-1)!;
      const target = (await list('?frontend=sms')).find((s) => s.clientPort === victim.socket.localPort)!;
      const viewer = await started.as('viewer');
      expect((await viewer.delete(`/api/v1/sessions/${target.id}`)).status).toBe(403);
      expect(victim.socket.destroyed).toBe(false);
      const operator = await started.as('operator');
      expect((await operator.delete(`/api/v1/sessions/${target.id}`)).status).toBe(204);
      await victim.closed;
    });
  });
});
