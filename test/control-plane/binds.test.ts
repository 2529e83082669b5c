// A frontend listens on a list of binds (issue 9 point 1): `binds` holds all of them, `bind` stays the
// first for older clients, and a write may give either. Real app, real sockets on 127.0.0.0/8.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { readDatabase, writeDatabase } from '../helpers/sqlite.js';
import { connect, freePort, listen, named, readLine, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, expectError, frontendBody, serverBody } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;
const sockets: Socket[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await t?.close();
  await upstream?.close();
});

beforeAll(async () => {
  upstream = await listen(named('up'));
  t = await startApp();
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('s', upstream.port)]))
    .expect(201);
});

/** A client of host:port that got the upstream's greeting through the proxy. */
async function served(host: string, port: number): Promise<Socket> {
  const socket = await connect(port, { host });
  sockets.push(socket);
  expect(await readLine(socket)).toBe('up');
  return socket;
}

async function echoes(socket: Socket, text: string): Promise<void> {
  socket.write(`${text}\n`);
  expect(await readLine(socket)).toBe(text);
}

describe('a frontend with several binds', () => {
  it('serves on all of them, shows them in stats and CSV, and takes binds on and off live', async () => {
    const [p, q, r] = [await freePort(), await freePort(), await freePort()];
    const binds = [
      { address: '127.0.0.2', port: p },
      { address: '127.0.0.3', port: p },
      { address: '127.0.0.1', port: q },
    ];
    const created = await t.request.post('/api/v1/frontends').send({ name: 'multi', binds, backend: 'b' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ bind: binds[0], binds, status: 'OPEN' });
    for (const b of binds) await served(b.address, b.port);

    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
    expect(stats.frontends.find((f) => f.name === 'multi')).toMatchObject({
      status: 'OPEN',
      bind: binds[0],
      binds,
    });
    const csv = (await t.request.get('/api/v1/stats?format=csv').expect(200)).text;
    const row = csv.split('\n').find((line) => line.startsWith('multi,FRONTEND,'));
    expect(row, csv).toContain(',OPEN,');

    // A session on the bind that goes away keeps going; the new bind serves; the old one is closed.
    const kept = await served('127.0.0.2', p);
    const moved = [binds[1], binds[2], { address: '127.0.0.1', port: r }];
    const patched = await t.request.patch('/api/v1/frontends/multi').send({ binds: moved });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ bind: moved[0], binds: moved, status: 'OPEN' });
    await echoes(kept, 'still here');
    expect(await accepts(p, '127.0.0.2')).toBe(false);
    for (const b of moved) await served(b.address, b.port);
    await echoes(kept, 'and still');

    // An older client: `bind` alone replaces the first address and keeps the others.
    const first = { address: '127.0.0.4', port: p };
    const old = await t.request.patch('/api/v1/frontends/multi').send({ bind: first });
    expect(old.status, JSON.stringify(old.body)).toBe(200);
    expect(old.body).toMatchObject({ bind: first, binds: [first, moved[1], moved[2]] });
    await served('127.0.0.4', p);
    expect(await accepts(p, '127.0.0.3')).toBe(false);
    await echoes(kept, 'through it all');

    // A document read and sent back with only `binds` edited (its `bind` as read) takes the binds.
    const document = (await t.request.get('/api/v1/config').expect(200)).body;
    const index = document.frontends.findIndex((f: { name: string }) => f.name === 'multi');
    document.frontends[index].binds = [moved[2]];
    const { revision: _revision, ...body } = document;
    const put = await t.request.put('/api/v1/config').send(body);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const view = (await t.request.get('/api/v1/frontends/multi').expect(200)).body;
    expect(view).toMatchObject({ bind: moved[2], binds: [moved[2]], status: 'OPEN' });
    expect(await accepts(p, '127.0.0.4')).toBe(false);
    await t.request.delete('/api/v1/frontends/multi').expect(200);
  });

  it('refuses clashing binds between two frontends and inside one with 409 naming binds[i]', async () => {
    const [p, q] = [await freePort(), await freePort()];
    await t.request
      .post('/api/v1/frontends')
      .send({
        name: 'one',
        binds: [
          { address: '127.0.0.1', port: p },
          { address: '127.0.0.2', port: p },
        ],
        backend: 'b',
      })
      .expect(201);
    const across = await t.request.post('/api/v1/frontends').send({
      name: 'two',
      binds: [
        { address: '127.0.0.1', port: q },
        { address: '127.0.0.2', port: p },
      ],
      backend: 'b',
    });
    expectError(across, 409, 'binds[1]');
    expect(across.body.message).toContain('frontend "one"');
    const inside = await t.request.post('/api/v1/frontends').send({
      name: 'two',
      binds: [
        { address: '127.0.0.1', port: q },
        { address: '0.0.0.0', port: q },
      ],
      backend: 'b',
    });
    expectError(inside, 409, 'binds[1]');
    expect(inside.body.errors.map((e: { field: string }) => e.field)).toEqual(['binds[1]', 'binds[0]']);
    // An older client's single bind clashing is named `bind`, as before.
    expectError(await t.request.post('/api/v1/frontends').send(frontendBody('two', p, 'b')), 409, 'bind');
    expect(await accepts(q)).toBe(false);
    await t.request.delete('/api/v1/frontends/one').expect(200);
  });

  it('refuses `bind` and `binds` that disagree (400 naming both), and more binds than the limit', async () => {
    const [p, q] = [await freePort(), await freePort()];
    const both = await t.request.post('/api/v1/frontends').send({
      name: 'both',
      bind: { address: '127.0.0.1', port: p },
      binds: [{ address: '127.0.0.1', port: q }],
      backend: 'b',
    });
    expectError(both, 400, 'bind');
    expect(both.body.errors.map((e: { field: string }) => e.field)).toEqual(['bind', 'binds']);
    const many = Array.from({ length: 65 }, (_, i) => ({ address: '127.0.0.1', port: 20_000 + i }));
    const over = await t.request.post('/api/v1/frontends').send({ name: 'many', binds: many, backend: 'b' });
    expect(over.status, JSON.stringify(over.body)).toBeGreaterThanOrEqual(400);
    expect(over.status).toBeLessThan(500);
    expect(JSON.stringify(over.body)).toContain('binds');
    expect(await accepts(p)).toBe(false);
    expect(await accepts(q)).toBe(false);
    // Agreeing is fine; the answer of an older client's write has both.
    const agree = await t.request.post('/api/v1/frontends').send({
      name: 'both',
      bind: { address: '127.0.0.1', port: p },
      binds: [{ address: '127.0.0.1', port: p }],
      backend: 'b',
    });
    expect(agree.status, JSON.stringify(agree.body)).toBe(201);
    const legacy = await t.request.post('/api/v1/frontends').send(frontendBody('legacy', q, 'b'));
    expect(legacy.body).toMatchObject({
      bind: { address: '127.0.0.1', port: q },
      binds: [{ address: '127.0.0.1', port: q }],
    });
    await served('127.0.0.1', q);
  });
});

describe('binds in the store', () => {
  it('keeps the frontends table consistent, and a revision stored before binds loads and rolls back', async () => {
    const db = tempDbPath();
    const [p, q] = [await freePort(), await freePort()];
    let app = await startApp({ dbPath: db.dbPath });
    try {
      await app.request
        .post('/api/v1/backends')
        .send(backendBody('b', [serverBody('s', upstream.port)]))
        .expect(201);
      const single = await app.request
        .post('/api/v1/frontends')
        .send(frontendBody('fe', p, 'b'))
        .expect(201);
      const binds = [
        { address: '127.0.0.1', port: p },
        { address: '127.0.0.2', port: q },
      ];
      await app.request.patch('/api/v1/frontends/fe').send({ binds }).expect(200);
      await app.close();
      readDatabase(db.dbPath, (sqlite) => {
        const row = sqlite.prepare('SELECT bindAddress, bindPort, binds FROM frontends').get() as Record<
          string,
          unknown
        >;
        expect(row).toMatchObject({ bindAddress: '127.0.0.1', bindPort: p });
        expect(JSON.parse(row.binds as string)).toEqual(binds);
      });
      // The revision of the single bind as an older Tether stored it: `bind` only.
      writeDatabase(db.dbPath, (sqlite) => {
        const row = sqlite
          .prepare('SELECT snapshot FROM revisions WHERE id = ?')
          .get(single.body.revision) as {
          snapshot: string;
        };
        const old = JSON.parse(row.snapshot) as { frontends: Array<Record<string, unknown>> };
        for (const f of old.frontends) delete f.binds;
        sqlite
          .prepare('UPDATE revisions SET snapshot = ? WHERE id = ?')
          .run(JSON.stringify(old), single.body.revision);
      });
      app = await startApp({ dbPath: db.dbPath });
      const old = await app.request.get(`/api/v1/revisions/${single.body.revision}`).expect(200);
      expect(JSON.stringify(old.body)).toContain(`"binds":[{"address":"127.0.0.1","port":${p}}]`);
      const back = await app.request.post(`/api/v1/revisions/${single.body.revision}/rollback`);
      expect(back.status, JSON.stringify(back.body)).toBeLessThan(300);
      const view = (await app.request.get('/api/v1/frontends/fe').expect(200)).body;
      expect(view).toMatchObject({ bind: binds[0], binds: [binds[0]], status: 'OPEN' });
      expect(await accepts(q, '127.0.0.2')).toBe(false);
      await served('127.0.0.1', p);
      await app.close();
      readDatabase(db.dbPath, (sqlite) => {
        const row = sqlite.prepare('SELECT binds FROM frontends').get() as { binds: string };
        expect(JSON.parse(row.binds)).toEqual([binds[0]]);
      });
    } finally {
      await app.close();
      db.cleanup();
    }
  });
});
