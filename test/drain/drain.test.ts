// Drains that finish (issue 12, point 1; docs/cmpp-session-control.md, "Drains"): the real app, real sockets on
// loopback, a real SQLite file. A drain with a deadline closes the sessions left at the deadline and moves the server
// to maint by itself (audited, logged); a drain without one stays drain; `then: drain`; a new state replaces the
// operation; the figures while it drains; refused requests.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { closed, connect, readLine, sleep, waitFor, type TestServer } from '../helpers/net.js';
import { expectError } from '../control-plane/fixtures.js';
import { DRAIN_POLL_MS } from '../../src/backends/drains.service.js';
import { adminState, auditOf, drainOf, eventsOf, farm, serverStats, upstreams } from './helpers.js';

let t: StartedApp;
let servers: TestServer[] = [];
let port: number;
const clients: Socket[] = [];

beforeEach(async () => {
  t = await startApp();
  servers = await upstreams();
  port = await farm(t, servers);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await t.close();
  await Promise.all(servers.map((s) => s.close()));
});
afterAll(() => undefined);

/** A client that landed on `name`. */
async function clientOn(name: string): Promise<Socket> {
  const socket = await connect(port);
  clients.push(socket);
  expect(await readLine(socket)).toBe(name);
  return socket;
}

function setState(body: Record<string, unknown>, server = 'one') {
  return t.request.put(`/api/v1/backends/b/servers/${server}/state`).send(body);
}

describe('drain with a deadline', () => {
  it('shows its progress, closes the sessions left at the deadline and moves to maint, audited and logged', async () => {
    const first = await clientOn('one');
    const second = await clientOn('one');
    const third = await clientOn('one');
    await sleep(50); // the oldest session has an age

    const before = Date.now();
    const res = await setState({ state: 'drain', deadline: 2500 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ previous: 'ready', state: 'drain', changed: true });
    expect(res.body.drain.then).toBe('maint');
    expect(res.body.drain.deadlineAt - res.body.drain.startedAt).toBe(2500);
    expect(res.body.drain.startedAt).toBeGreaterThanOrEqual(before);

    // Progress while it drains: sessions left, the oldest's age, time left.
    const progress = await drainOf(t, 'one');
    expect(progress).toMatchObject({
      startedAt: res.body.drain.startedAt,
      deadlineAt: res.body.drain.deadlineAt,
      then: 'maint',
      sessionsLeft: 3,
      closedAt: null,
      closed: 0,
    });
    expect(progress!.oldestSessionAgeMs).toBeGreaterThanOrEqual(50);
    expect(progress!.timeLeftMs).toBeGreaterThan(0);
    expect(progress!.timeLeftMs).toBeLessThanOrEqual(2500);
    // The server that is not draining has no drain figures.
    expect((await serverStats(t, 'two')).drain).toBeUndefined();

    // A session that ends by itself is one fewer left; the drain goes on.
    first.destroy();
    await waitFor(async () => (await drainOf(t, 'one'))?.sessionsLeft === 2, 5000, '2 sessions left');
    expect(await adminState(t, 'one')).toBe('drain');
    // New clients go to two.
    await clientOn('two');

    // The deadline closes the two left; then the server moves to maint by itself.
    await Promise.all([closed(second, 10_000), closed(third, 10_000)]);
    expect(Date.now()).toBeGreaterThanOrEqual(res.body.drain.deadlineAt);
    await waitFor(async () => (await adminState(t, 'one')) === 'maint', 5000, 'one in maint');
    expect((await serverStats(t, 'one')).drain).toBeUndefined();

    const states = await auditOf(t, 'server.state');
    expect(states[0]).toMatchObject({
      actor: 'system',
      sourceAddress: 'drain',
      target: 'b/one',
      result: 'ok',
    });
    expect(states[0].detail).toMatch(/^drain → maint: drain with deadline 2500 ms, then maint done/);
    expect(states[0].detail).toContain('deadline closed 2');
    const shutdowns = await auditOf(t, 'server.shutdown-sessions');
    expect(shutdowns[0]).toMatchObject({ actor: 'system', sourceAddress: 'drain', target: 'b/one' });
    expect(shutdowns[0].detail).toContain('2 session(s) closed');

    const drains = await eventsOf(t, 'drain');
    expect(drains.map((e) => e.detail.step)).toEqual(['end', 'deadline']);
    expect(drains[0]).toMatchObject({ backend: 'b', server: 'one' });
    expect(drains[0].detail).toMatchObject({ to: 'maint', closed: 2, deadlineAt: res.body.drain.deadlineAt });
    const moves = await eventsOf(t, 'admin-state');
    expect(moves[0].text).toBe('b/one DRAIN → MAINT');
  });

  it('a drain with then: maint and no deadline moves to maint once its last session ends by itself', async () => {
    const client = await clientOn('one');
    const res = await setState({ state: 'drain', then: 'maint' });
    expect(res.status).toBe(200);
    expect(res.body.drain).toMatchObject({ deadlineAt: null, then: 'maint' });
    expect(await drainOf(t, 'one')).toMatchObject({ sessionsLeft: 1, timeLeftMs: null, then: 'maint' });
    await sleep(DRAIN_POLL_MS * 3);
    expect(await adminState(t, 'one')).toBe('drain'); // a session is left
    client.destroy();
    await waitFor(async () => (await adminState(t, 'one')) === 'maint', 5000, 'one in maint');
  });
});

describe('drain without a deadline', () => {
  it('stays drain, as in HAProxy, while a drain operation beside it ends', async () => {
    const client = await clientOn('one');
    expect((await setState({ state: 'drain' })).status).toBe(200);
    const plain = await drainOf(t, 'one');
    expect(plain).toMatchObject({ then: null, deadlineAt: null, timeLeftMs: null, sessionsLeft: 1 });
    client.destroy();
    await waitFor(async () => (await drainOf(t, 'one'))?.sessionsLeft === 0, 5000, 'no session left');

    // Positive evidence that the drain poll has looked since: an operation on two, with no session, ends.
    expect((await setState({ state: 'drain', then: 'maint' }, 'two')).status).toBe(200);
    await waitFor(async () => (await adminState(t, 'two')) === 'maint', 5000, 'two in maint');
    await sleep(DRAIN_POLL_MS * 2);
    expect(await adminState(t, 'one')).toBe('drain');
    expect((await drainOf(t, 'one'))?.startedAt).toBe(plain!.startedAt);
    const states = await auditOf(t, 'server.state');
    expect(states.filter((a) => a.target === 'b/one' && a.actor === 'system')).toEqual([]);
  });
});

describe('then: drain', () => {
  it('ends the operation when no session is left and keeps the server draining', async () => {
    const client = await clientOn('one');
    const res = await setState({ state: 'drain', deadline: 60_000, then: 'drain' });
    expect(res.status).toBe(200);
    expect(await drainOf(t, 'one')).toMatchObject({ then: 'drain', sessionsLeft: 1 });
    client.destroy();
    await waitFor(async () => (await drainOf(t, 'one'))?.then === null, 5000, 'the operation ended');
    const after = await drainOf(t, 'one');
    expect(after).toMatchObject({ startedAt: res.body.drain.startedAt, deadlineAt: null, timeLeftMs: null });
    expect(await adminState(t, 'one')).toBe('drain');
    const states = await auditOf(t, 'server.state');
    expect(states[0]).toMatchObject({ actor: 'system', sourceAddress: 'drain', target: 'b/one' });
    expect(states[0].detail).toContain('it stays drain');
    const drains = await eventsOf(t, 'drain');
    expect(drains[0].detail).toMatchObject({ step: 'end', to: 'drain' });
  });
});

describe('a new state replaces the operation', () => {
  it('a plain drain and ready cancel the deadline: the session outlives it', async () => {
    const client = await clientOn('one');
    const first = await setState({ state: 'drain', deadline: 600 });
    expect(first.status).toBe(200);
    const replaced = await setState({ state: 'drain' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ previous: 'drain', state: 'drain', changed: true });
    expect(await drainOf(t, 'one')).toMatchObject({ then: null, deadlineAt: null });
    const states = await auditOf(t, 'server.state');
    expect(states[0].detail).toBe('drain → drain, replaces the drain with deadline 600 ms, then maint');

    // Another operation, replaced by ready.
    expect((await setState({ state: 'drain', deadline: 600, then: 'maint' })).status).toBe(200);
    expect((await setState({ state: 'ready' })).status).toBe(200);

    await sleep(600 + DRAIN_POLL_MS * 3);
    client.write('still here\n');
    expect(await readLine(client)).toBe('still here');
    expect(await adminState(t, 'one')).toBe('ready');
    expect(await eventsOf(t, 'drain')).toEqual([]);
  });

  it('maint with shutdownSessions during a drain operation ends it: no system move afterwards', async () => {
    await clientOn('one');
    expect((await setState({ state: 'drain', deadline: 60_000 })).status).toBe(200);
    const res = await setState({ state: 'maint', shutdownSessions: true });
    expect(res.body).toMatchObject({ previous: 'drain', state: 'maint', sessionsClosed: 1 });
    expect((await setState({ state: 'ready' })).status).toBe(200);
    await sleep(DRAIN_POLL_MS * 3);
    expect(await adminState(t, 'one')).toBe('ready');
    expect((await auditOf(t, 'server.state')).filter((a) => a.actor === 'system')).toEqual([]);
  });
});

describe('bad input', () => {
  it('refuses a bad deadline or then with a 400 naming the field, and changes nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ state: 'drain', deadline: 0 }, 'deadline'],
      [{ state: 'drain', deadline: -5 }, 'deadline'],
      [{ state: 'drain', deadline: 1.5 }, 'deadline'],
      [{ state: 'drain', deadline: 'soon' }, 'deadline'],
      [{ state: 'drain', deadline: 7 * 86_400_000 + 1 }, 'deadline'],
      [{ state: 'drain', deadline: null }, 'deadline'],
      [{ state: 'drain', then: 'ready' }, 'then'],
      [{ state: 'drain', then: 3 }, 'then'],
      [{ state: 'drain', then: null }, 'then'],
      [{ state: 'maint', deadline: 1000 }, 'deadline'],
      [{ state: 'ready', then: 'maint' }, 'then'],
    ];
    for (const [body, field] of cases) {
      const res = await setState(body);
      expectError(res, 400);
      const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field);
      expect(fields, JSON.stringify(body)).toContain(field);
    }
    const both = await setState({ state: 'ready', deadline: 1000, then: 'maint' });
    expectError(both, 400);
    expect((both.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(['deadline', 'then']);
    // Nothing changed: still ready, no drain, no ok audit.
    expect(await adminState(t, 'one')).toBe('ready');
    expect((await auditOf(t, 'server.state')).filter((a) => a.result === 'ok')).toEqual([]);
    // The largest deadline is taken.
    expect((await setState({ state: 'drain', deadline: 7 * 86_400_000 })).status).toBe(200);
    expect((await drainOf(t, 'one'))?.timeLeftMs).toBeGreaterThan(7 * 86_400_000 - 60_000);
  });
});
