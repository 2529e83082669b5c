// POST /api/v1/import/haproxy on the real app: the seed file of issue 9 imported and serving through
// real loopback sockets, dry runs that change nothing, strict mode, If-Match, a taken port, limits.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { IMPORT, postImport, SEED, seedOn } from './import-helpers.js';
import { connect, echo, freePort, holdPort, listen, readBytes, type TestServer } from '../helpers/net.js';

async function head(t: StartedApp): Promise<number> {
  return (await t.request.get('/api/v1/config').expect(200)).body.revision as number;
}

describe('POST /api/v1/import/haproxy', () => {
  let t: StartedApp;
  const upstreams: TestServer[] = [];

  beforeAll(async () => {
    t = await startApp();
    for (let i = 0; i < 3; i++) upstreams.push(await listen(echo));
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('dry-runs the seed file: the config, the diff, the impact and the warnings; nothing changes', async () => {
    const port = await freePort();
    const before = await head(t);
    const res = await postImport(
      t,
      seedOn(
        port,
        upstreams.map((u) => u.port),
      ),
      { dryRun: 'true' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, valid: true, revision: before, changed: true });
    expect(res.body.config.frontends[0]).toMatchObject({
      name: 'persistent_connection_frontend',
      bind: { port },
    });
    expect(res.body.config.backends[0].servers).toHaveLength(3);
    expect(res.body.changes.length).toBeGreaterThan(0);
    expect(res.body.text).toContain('persistent_connection_backend');
    expect(res.body.impact.listenersOpened).toEqual([
      expect.objectContaining({ frontend: 'persistent_connection_frontend', port }),
    ]);
    expect(res.body.warnings).toContainEqual({ line: 4, text: 'daemon', message: expect.any(String) });
    expect(await head(t)).toBe(before);
    await expect(connect(port)).rejects.toThrow();
  });

  it('imports the seed file as one revision of kind import, audited, and it serves', async () => {
    const port = await freePort();
    const res = await postImport(
      t,
      seedOn(
        port,
        upstreams.map((u) => u.port),
      ),
      { message: 'from haproxy' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ changed: true, revision: expect.any(Number) });
    expect(res.headers.etag).toBe(`"${res.body.revision}"`);
    expect(res.body.warnings.length).toBeGreaterThan(0);
    const revision = (await t.request.get(`/api/v1/revisions/${res.body.revision}`).expect(200)).body;
    expect(revision).toMatchObject({ kind: 'import', message: 'from haproxy' });
    const audit = await t.request.get('/api/v1/audit').query({ action: 'config.import' }).expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'config.import', result: 'ok' });

    const client = await connect(port);
    client.write('hello through the import');
    expect((await readBytes(client, 24)).toString()).toBe('hello through the import');
    client.destroy();
    expect(upstreams.reduce((n, u) => n + u.accepted.length, 0)).toBeGreaterThan(0);

    // The same file again is no change.
    const again = await postImport(
      t,
      seedOn(
        port,
        upstreams.map((u) => u.port),
      ),
    );
    expect(again.body).toMatchObject({ changed: false, revision: res.body.revision });
  });

  it('honours If-Match', async () => {
    const current = await head(t);
    const res = await postImport(t, seedOn(await freePort(), [1, 2, 3])).set('if-match', `"${current + 5}"`);
    expect(res.status).toBe(412);
    expect(await head(t)).toBe(current);
  });

  it('answers 409 when a port is taken, with the warnings, and changes nothing', async () => {
    const port = await freePort();
    const squatter = await holdPort(port);
    try {
      const current = await head(t);
      const res = await postImport(
        t,
        seedOn(
          port,
          upstreams.map((u) => u.port),
        ),
      );
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'APPLY_FAILED', field: 'frontends[0].bind' });
      expect(res.body.warnings.length).toBeGreaterThan(0);
      expect(await head(t)).toBe(current);
      const audit = await t.request.get('/api/v1/audit').query({ action: 'config.import', result: 'failed' });
      expect(audit.body.items[0]).toMatchObject({ action: 'config.import', result: 'failed' });
    } finally {
      await squatter.close();
    }
  });

  it('leaves mode http sections out with a warning, and strict mode refuses them naming the line', async () => {
    const port = await freePort();
    const text = `${seedOn(
      port,
      upstreams.map((u) => u.port),
    )}\nlisten stats\n  mode http\n  bind 127.0.0.1:${await freePort()}\n  stats uri /\n`;
    const loose = await postImport(t, text, { dryRun: 'true' });
    expect(loose.status).toBe(200);
    expect(loose.body.warnings).toContainEqual(
      expect.objectContaining({
        line: 29,
        message: expect.stringMatching(/listen "stats" is in `mode http`/),
      }),
    );
    const strict = await postImport(t, text, { dryRun: 'true', strict: 'true' });
    expect(strict.status).toBe(422);
    expect(strict.body).toMatchObject({ code: 'NOT_IMPLEMENTED', field: 'line 29' });
    expect(strict.body.errors[0].message).toMatch(/^line 29 \(listen stats\): .*refused in strict mode/);
    expect(strict.body.warnings.length).toBeGreaterThan(0);
  });

  it('refuses a file with nothing to import (400), a body that is not text/plain (415), or past 1 MB (413)', async () => {
    const current = await head(t);
    const empty = await postImport(t, 'global\n  maxconn 10\n');
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/no TCP frontend/);
    const json = await t.request.post(IMPORT).send({ text: 'frontend a' });
    expect(json.status).toBe(415);
    const big = await postImport(t, `# ${'x'.repeat(1024 * 1024)}\n`);
    expect(big.status).toBe(413);
    const flag = await postImport(t, SEED, { dryRun: 'maybe' });
    expect(flag.status).toBe(400);
    expect(flag.body.field).toBe('dryRun');
    expect(await head(t)).toBe(current);
  });

  it('is for admins only', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      const client = await t.as(role);
      const res = await client.post(IMPORT).set('content-type', 'text/plain').send(SEED);
      expect(res.status, role).toBe(403);
    }
  });

  it('never answers 5xx, whatever the text', async () => {
    const lines = fc.constantFrom(
      'frontend f',
      'backend b',
      'listen l 127.0.0.1:1',
      'defaults',
      'global',
      '  bind :1',
      '  bind [::1]:2',
      '  server s 10.0.0.1:1 check',
      '  server s nohost_x:1',
      '  default_backend b',
      '  mode http',
      '  maxconn 0',
      '  timeout client 1d',
      '  balance first',
      '\\',
      '# c',
      '  acl a src 10.0.0.0/8',
      '  tcp-request connection reject if !a',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.array(lines, { maxLength: 40 }).map((l) => l.join('\n')),
        ),
        async (text) => {
          const res = await postImport(t, text, { dryRun: 'true' });
          expect(res.status, `${text} → ${JSON.stringify(res.body)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });
});
