// Shared by the drain tests: a backend of two named servers (`one`, `two`; balance first: clients land on `one`
// while it takes them) behind one frontend, and readers of the drain's figures.
import { expect } from 'vitest';
import type { StartedApp } from '../helpers/app.js';
import { freePort, listen, named, type TestServer } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';
import type { DrainProgress, ServerStats } from '../../src/runtime/types.js';

export async function upstreams(): Promise<TestServer[]> {
  return [await listen(named('one')), await listen(named('two'))];
}

/** Creates backend `b` (servers one and two) and frontend `fe`; resolves with the frontend's port. */
export async function farm(t: StartedApp, servers: TestServer[], port?: number): Promise<number> {
  const fePort = port ?? (await freePort());
  await t.request
    .post('/api/v1/backends')
    .send(
      backendBody('b', [serverBody('one', servers[0].port), serverBody('two', servers[1].port)], {
        balance: 'first',
      }),
    )
    .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fe', fePort, 'b'))
    .expect(201);
  return fePort;
}

export async function serverStats(t: StartedApp, name: string): Promise<ServerStats> {
  const res = await t.request.get('/api/v1/stats');
  expect(res.status).toBe(200);
  const backend = (res.body.backends as Array<{ name: string; servers: ServerStats[] }>).find(
    (b) => b.name === 'b',
  );
  const server = backend?.servers.find((s) => s.name === name);
  expect(server, `server ${name} in the stats`).toBeDefined();
  return server as ServerStats;
}

export async function drainOf(t: StartedApp, name: string): Promise<DrainProgress | undefined> {
  return (await serverStats(t, name)).drain;
}

export async function adminState(t: StartedApp, name: string): Promise<string> {
  return (await serverStats(t, name)).adminState;
}

export interface AuditItem {
  actor: string;
  sourceAddress?: string;
  action: string;
  target?: string;
  result: string;
  detail?: string;
}

export async function auditOf(t: StartedApp, action: string): Promise<AuditItem[]> {
  const res = await t.request.get('/api/v1/audit').query({ action, limit: 50 });
  expect(res.status).toBe(200);
  return res.body.items as AuditItem[];
}

export interface EventItem {
  type: string;
  backend?: string;
  server?: string;
  text: string;
  detail: Record<string, unknown>;
}

export async function eventsOf(t: StartedApp, type: string): Promise<EventItem[]> {
  const res = await t.request.get('/api/v1/events').query({ type, limit: 100 });
  expect(res.status).toBe(200);
  return res.body as EventItem[];
}
