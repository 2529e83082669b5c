// Frontend states in GET /stats: OPEN, STOP (disabled) and FAILED (could not bind at boot) with the bind
// error, refused connections counted as HAProxy's dcon, and how the CSV words them.
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrontendStats, RuntimeStats } from '../../src/runtime/types.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { configure } from './setup.js';
import { freePort, waitFor } from '../helpers/net.js';
import { echoServer, type EchoServer } from './tcp.js';

const COLUMNS_NEEDED = ['status', 'stot', 'conn_tot', 'dcon'] as const;

describe('frontend states in stats', () => {
  const db = tempDbPath();
  let started: StartedApp | undefined;
  let upstream: EchoServer;
  let squatter: net.Server | undefined;
  let openPort: number;
  let blockedPort: number;

  beforeAll(async () => {
    upstream = await echoServer();
    [openPort, blockedPort] = [await freePort(), await freePort()];
    started = await startApp({ dbPath: db.dbPath });
    await configure(started, {
      frontend: 'guarded',
      backend: 'be',
      port: openPort,
      servers: [{ name: 's1', port: upstream.port }],
    });
    const add = async (body: object) => {
      const res = await started!.request.post('/api/v1/frontends').send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };
    await add({
      name: 'off',
      bind: { address: '127.0.0.1', port: await freePort() },
      backend: 'be',
      enabled: false,
    });
    await add({ name: 'blocked', bind: { address: '127.0.0.1', port: blockedPort }, backend: 'be' });
    const patch = await started.request.patch('/api/v1/frontends/guarded').send({ allow: ['127.0.0.1/32'] });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);

    // Restart on the same database while another process holds blocked's port.
    await started.close();
    squatter = net.createServer();
    squatter.listen({ host: '127.0.0.1', port: blockedPort });
    await once(squatter, 'listening');
    started = await startApp({ dbPath: db.dbPath });
  });

  afterAll(async () => {
    await started?.close();
    squatter?.close();
    await upstream?.close();
    db.cleanup();
  });

  const frontends = async (): Promise<Map<string, FrontendStats>> => {
    const body = (await started!.request.get('/api/v1/stats')).body as RuntimeStats;
    return new Map(body.frontends.map((f) => [f.name, f]));
  };

  const csvRows = async (): Promise<Map<string, Record<(typeof COLUMNS_NEEDED)[number], string>>> => {
    const text = (await started!.request.get('/api/v1/stats?format=csv')).text;
    const [header, ...lines] = text.split('\n').filter((l) => l !== '');
    const columns = header!.slice(2).split(',');
    const rows = new Map<string, Record<(typeof COLUMNS_NEEDED)[number], string>>();
    for (const line of lines) {
      const fields = line.split(',');
      if (fields[1] !== 'FRONTEND') continue;
      rows.set(
        fields[0]!,
        Object.fromEntries(COLUMNS_NEEDED.map((c) => [c, fields[columns.indexOf(c)]!])) as never,
      );
    }
    return rows;
  };

  it('reports OPEN, STOP and FAILED with the bind error', async () => {
    const byName = await frontends();
    expect(byName.get('guarded')!.status).toBe('OPEN');
    expect(byName.get('off')!.status).toBe('STOP');
    const blocked = byName.get('blocked')!;
    expect(blocked.status).toBe('FAILED');
    expect(blocked.error).toMatchObject({ frontend: 'blocked', code: 'EADDRINUSE' });
  });

  it('words them OPEN and STOP in the CSV (HAProxy has no failed-bind state)', async () => {
    const rows = await csvRows();
    expect([...rows].map(([name, row]) => [name, row.status])).toEqual([
      ['guarded', 'OPEN'],
      ['off', 'STOP'],
      ['blocked', 'STOP'],
    ]);
  });

  it('counts a connection refused by the allow-list as denied (CSV dcon, in conn_tot, not in stot)', async () => {
    const before = (await frontends()).get('guarded')!;
    const outsider = net.connect({ host: '127.0.0.1', port: openPort, localAddress: '127.0.0.5' });
    outsider.on('error', () => {});
    await once(outsider, 'close');
    const after = await waitFor(
      async () => {
        const f = (await frontends()).get('guarded')!;
        return f.denied > before.denied ? f : undefined;
      },
      10_000,
      'the refusal to be counted',
    );
    expect(after.denied).toBe(before.denied + 1);
    expect(after.stot).toBe(before.stot);
    const row = (await csvRows()).get('guarded')!;
    expect(row.dcon).toBe(String(after.denied));
    expect(Number(row.conn_tot)).toBe(after.stot + after.denied);
  });
});
