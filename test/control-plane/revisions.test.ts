// History: paging, one revision per change, structured and text diffs, rollback through the same
// pipeline (including the port-taken failure), and CMPP check secrets that never come back in clear.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { accepts, backendBody, expectError, frontendBody, headRevision, revisionCount } from './fixtures.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t?.close());

describe('history', () => {
  it('lists revisions newest first with paging, and marks the current one', async () => {
    for (let i = 0; i < 3; i++) {
      await t.request
        .post('/api/v1/backends')
        .query({ message: `add h${i}` })
        .send(backendBody(`h${i}`))
        .expect(201);
    }
    const total = await revisionCount(t);
    const page = await t.request.get('/api/v1/revisions').query({ limit: 2, offset: 1 });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total, limit: 2, offset: 1, head: total });
    expect(page.body.items.map((r: { id: number }) => r.id)).toEqual([total - 1, total - 2]);
    const first = (await t.request.get('/api/v1/revisions').query({ limit: 1 })).body.items[0];
    expect(first).toMatchObject({
      id: total,
      kind: 'change',
      message: 'add h2',
      current: true,
      parentId: total - 1,
    });
    expect(first.author).toEqual(expect.any(String));
    expectError(await t.request.get('/api/v1/revisions').query({ limit: 0 }), 400, 'limit');
  });

  it('gets one revision with its whole snapshot', async () => {
    const head = await headRevision(t);
    const res = await t.request.get(`/api/v1/revisions/${head}`);
    expect(res.status).toBe(200);
    expect(res.body.snapshot.backends.map((b: { name: string }) => b.name)).toContain('h2');
    expect(res.body.snapshot.defaults.maxconn).toBe(50000);
  });

  it('diffs any two revisions, structured and as unified text', async () => {
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('d', [{ name: 's', address: '127.0.0.1', port: 1 }]))
      .expect(201);
    const from = await headRevision(t);
    await t.request.patch('/api/v1/backends/d/servers/s').send({ weight: 9 }).expect(200);
    await t.request.delete('/api/v1/backends/h0').expect(200);
    const to = await headRevision(t);

    const res = await t.request.get(`/api/v1/revisions/${to}/diff`).query({ against: from });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(from);
    expect(res.body.to).toBe(to);
    expect(res.body.changes).toEqual(
      expect.arrayContaining([
        { path: 'backends[d].servers[s].weight', kind: 'changed', before: 1, after: 9 },
        expect.objectContaining({ path: 'backends[h0]', kind: 'removed' }),
      ]),
    );
    expect(res.body.changes).toHaveLength(2);
    expect(res.body.text).toContain(`--- revision ${from}`);
    expect(res.body.text).toContain(`+++ revision ${to}`);
    expect(res.body.text).toMatch(/^-\s+"weight": 1,$/m);
    expect(res.body.text).toMatch(/^\+\s+"weight": 9,$/m);

    // Without ?against, the diff is against the parent.
    const parent = await t.request.get(`/api/v1/revisions/${to}/diff`);
    expect(parent.body.from).toBe(to - 1);
    expect(parent.body.changes).toEqual([expect.objectContaining({ path: 'backends[h0]', kind: 'removed' })]);
    expectError(await t.request.get(`/api/v1/revisions/${to}/diff`).query({ against: 99999 }), 404);
  });
});

describe('rollback', () => {
  it('makes a new revision of kind rollback whose snapshot equals the target, applied live', async () => {
    const port = await freePort();
    await t.request.post('/api/v1/backends').send(backendBody('rb')).expect(201);
    const target = await headRevision(t);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('rb-fe', port, 'rb'))
      .expect(201);
    expect(await accepts(port)).toBe(true);

    const res = await t.request.post(`/api/v1/revisions/${target}/rollback`).query({ message: 'undo rb-fe' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, revision: target + 2 });
    expect(res.headers.etag).toBe(`"${target + 2}"`);
    expect(await accepts(port)).toBe(false);

    const made = (await t.request.get(`/api/v1/revisions/${target + 2}`)).body;
    const original = (await t.request.get(`/api/v1/revisions/${target}`)).body;
    expect(made).toMatchObject({
      kind: 'rollback',
      message: 'undo rb-fe',
      parentId: target + 1,
      current: true,
    });
    expect(made.snapshot).toEqual(original.snapshot);
    expect(
      (await t.request.get(`/api/v1/revisions/${target + 2}/diff`).query({ against: target })).body.changes,
    ).toEqual([]);

    // Rolling back to what is already in effect changes nothing.
    const again = await t.request.post(`/api/v1/revisions/${target}/rollback`);
    expect(again.body).toMatchObject({ changed: false, revision: target + 2 });
  });

  it('fails cleanly with 409 when the target binds a port now taken by another process', async () => {
    const port = await freePort();
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('rb-port', port, 'rb'))
      .expect(201);
    const target = await headRevision(t);
    await t.request.delete('/api/v1/frontends/rb-port').expect(200);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port }, resolve));
    try {
      const count = await revisionCount(t);
      const head = await headRevision(t);
      const res = await t.request.post(`/api/v1/revisions/${target}/rollback`);
      expectError(res, 409, 'frontends[0].bind');
      expect(res.body.cause).toBe('EADDRINUSE');
      expect(await revisionCount(t)).toBe(count);
      expect(await headRevision(t)).toBe(head);
      const audit = await t.request
        .get('/api/v1/audit')
        .query({ action: 'revision.rollback', result: 'failed' });
      expect(audit.body.items[0]).toMatchObject({ target: String(target), result: 'failed' });
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    // Once the port is free again, the same rollback goes through.
    expect((await t.request.post(`/api/v1/revisions/${target}/rollback`)).status).toBe(200);
    expect(await accepts(port)).toBe(true);
  });
});

describe('CMPP check secret', () => {
  // A CMPP login check on a backend without servers: its credentials are kept and masked.
  const check = {
    type: 'cmpp',
    inter: 1000,
    cmpp: { sourceAddr: '900001', secret: 's3cr3t-value', version: '3.0' },
  };

  it('never reads back in clear: resources, config, revisions, diffs and audit', async () => {
    const created = await t.request.post('/api/v1/backends').send(backendBody('sec', [], { check }));
    expect(created.status).toBe(201);
    expect(created.body.check.cmpp).toEqual({ sourceAddr: '900001', secret: '********', version: '3.0' });
    const head = created.body.revision;

    const bodies = [
      created.body,
      (await t.request.get('/api/v1/backends/sec')).body,
      (await t.request.get('/api/v1/backends')).body,
      (await t.request.get('/api/v1/config')).body,
      (await t.request.get(`/api/v1/revisions/${head}`)).body,
      (await t.request.get(`/api/v1/revisions/${head}/diff`)).body,
      (await t.request.post('/api/v1/config/validate').send((await t.request.get('/api/v1/config')).body))
        .body,
      (await t.request.get('/api/v1/audit')).body,
    ];
    for (const body of bodies) expect(JSON.stringify(body)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(bodies[5])).toContain('********');
  });

  it('keeps the stored secret when a write sends the mask back, and shows a changed secret as changed', async () => {
    const current = (await t.request.get('/api/v1/backends/sec')).body;
    const kept = await t.request
      .put('/api/v1/backends/sec')
      .send({ balance: current.balance, check: { ...current.check, inter: 2000 } });
    expect(kept.status).toBe(200);
    // The whole config round-trips with the mask in it, and changes nothing.
    const config = (await t.request.get('/api/v1/config')).body;
    expect((await t.request.put('/api/v1/config').send(config)).body.changed).toBe(false);

    const changed = await t.request
      .patch('/api/v1/backends/sec')
      .send({ check: { ...check, cmpp: { ...check.cmpp, secret: 'another-one' } } });
    expect(changed.body.changed).toBe(true);
    const diff = (await t.request.get(`/api/v1/revisions/${changed.body.revision}/diff`)).body;
    expect(diff.changes).toContainEqual({
      path: 'backends[sec].check.cmpp.secret',
      kind: 'changed',
      before: '********',
      after: '********',
    });
    expect(JSON.stringify(diff)).not.toMatch(/another-one|s3cr3t-value/);

    // A mask where nothing is stored is refused.
    const res = await t.request
      .post('/api/v1/backends')
      .send(backendBody('sec2', [], { check: { ...check, cmpp: { ...check.cmpp, secret: '********' } } }));
    expectError(res, 400, 'check.cmpp.secret');
  });

  it('never compares a secret given in clear: a right and a wrong guess both count as changed', async () => {
    const viewer = await t.as('viewer');
    const config = (await t.request.get('/api/v1/config')).body;
    const withSecret = (secret: string) => ({
      ...config,
      backends: config.backends.map((b: { name: string; check: { cmpp: object } }) =>
        b.name === 'sec' ? { ...b, check: { ...b.check, cmpp: { ...b.check.cmpp, secret } } } : b,
      ),
    });
    // 'another-one' is the stored secret (set above); the mask alone changes nothing.
    const answers = [];
    for (const secret of ['another-one', 'wrong-guess', '********']) {
      const res = await viewer.post('/api/v1/config/validate').send(withSecret(secret));
      expect(res.status).toBe(200);
      answers.push({ changed: res.body.changed, changes: res.body.changes });
    }
    const secretChange = {
      path: 'backends[sec].check.cmpp.secret',
      kind: 'changed',
      before: '********',
      after: '********',
    };
    expect(answers[0]).toEqual({ changed: true, changes: [secretChange] });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual({ changed: false, changes: [] });
    // The commit agrees with the dry run: a secret in clear makes a revision, right or wrong.
    const count = await revisionCount(t);
    const put = await t.request.put('/api/v1/config').send(withSecret('another-one'));
    expect(put.body.changed).toBe(true);
    expect(await revisionCount(t)).toBe(count + 1);
  });
});
