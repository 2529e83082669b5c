// Configures a frontend and a backend through the REST API, as an operator would.
import { expect } from 'vitest';
import type { StartedApp } from '../helpers/app.js';

export interface ServerSpec {
  name: string;
  port: number;
  weight?: number;
  maxconn?: number;
  backup?: boolean;
  check?: boolean;
}

export async function configure(
  started: StartedApp,
  setup: {
    frontend: string;
    backend: string;
    port: number;
    balance?: string;
    maxconn?: number;
    servers: ServerSpec[];
  },
): Promise<void> {
  const backend = await started.request.post('/api/v1/backends').send({
    name: setup.backend,
    balance: setup.balance ?? 'roundrobin',
    check: { type: 'tcp', inter: 500, fall: 3, rise: 2 },
    servers: setup.servers.map((s) => ({
      name: s.name,
      address: '127.0.0.1',
      port: s.port,
      weight: s.weight ?? 1,
      backup: s.backup ?? false,
      check: s.check ?? true,
      ...(s.maxconn ? { maxconn: s.maxconn } : {}),
    })),
  });
  expect(backend.status, JSON.stringify(backend.body)).toBe(201);
  const frontend = await started.request.post('/api/v1/frontends').send({
    name: setup.frontend,
    bind: { address: '127.0.0.1', port: setup.port },
    backend: setup.backend,
    ...(setup.maxconn ? { maxconn: setup.maxconn } : {}),
  });
  expect(frontend.status, JSON.stringify(frontend.body)).toBe(201);
}

export async function setServerState(
  started: StartedApp,
  backend: string,
  server: string,
  state: 'ready' | 'drain' | 'maint',
): Promise<void> {
  const res = await started.request
    .put(`/api/v1/backends/${backend}/servers/${server}/state`)
    .send({ state });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}
