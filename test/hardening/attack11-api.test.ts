// Issue 11, attacked from outside (session 7), the API side: bad `check.cmpp` fields get one 4xx naming every
// offending field and change nothing (never a 5xx), and the CMPP check secret reaches no role on any route,
// answers to writes, dry runs and errors included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/auth/roles.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { backendBody, expectError, revisionCount, serverBody } from '../control-plane/fixtures.js';

let app: StartedApp;
const SECRET = 'Att4ck-11-secret-zz';

beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app?.close());

const cmppBackend = (name: string, cmpp: unknown) =>
  backendBody(name, [serverBody('g1', 9, { check: false })], {
    check: { type: 'cmpp', inter: 60_000, cmpp },
  });

describe('bad check.cmpp fields', () => {
  const CASES: Array<[string, unknown, string[]]> = [
    [
      'every field wrong at once',
      { sourceAddr: 9012345, secret: '', version: '4.0' },
      ['check.cmpp.sourceAddr', 'check.cmpp.secret', 'check.cmpp.version'],
    ],
    // The account's length in bytes is the document check's (a stored value may predate the rule), which a request
    // the DTOs refuse never reached: named in the same answer all the same.
    [
      'a 7-byte account beside a bad secret and version',
      { sourceAddr: '9012345', secret: '', version: '4.0' },
      ['check.cmpp.sourceAddr', 'check.cmpp.secret', 'check.cmpp.version'],
    ],
    [
      'an account of 6 characters but 12 bytes',
      { sourceAddr: '账号账号', secret: 's', version: '3.0' },
      ['check.cmpp.sourceAddr'],
    ],
    [
      'wrong types',
      { sourceAddr: 901234, secret: ['s'], version: 3 },
      ['check.cmpp.sourceAddr', 'check.cmpp.secret', 'check.cmpp.version'],
    ],
    // version is optional (null or absent: 3.0).
    [
      'nulls',
      { sourceAddr: null, secret: null, version: null },
      ['check.cmpp.sourceAddr', 'check.cmpp.secret'],
    ],
    [
      'a secret of 65 characters',
      { sourceAddr: '901234', secret: 'x'.repeat(65), version: '2.0' },
      ['check.cmpp.secret'],
    ],
    ['cmpp a string', 'x', ['check.cmpp']],
    // Named by its first missing fields: check.cmpp.sourceAddr, check.cmpp.secret.
    ['cmpp an array', [], ['check.cmpp.sourceAddr']],
    ['cmpp null', null, ['check.cmpp']],
    // Source_Addr is NUL padded: the gateway reads "9012" and computes its authenticator over that, the check over
    // "9012\0": a login that can never succeed (the per-account limits refuse such an account for the same reason).
    [
      'an account ending with a NUL byte',
      { sourceAddr: '9012\u0000', secret: 's', version: '3.0' },
      ['check.cmpp.sourceAddr'],
    ],
  ];

  it.each(CASES)('%s: one 4xx naming each field, nothing changed', async (_name, cmpp, fields) => {
    const before = await revisionCount(app);
    const res = await app.request.post('/api/v1/backends').send(cmppBackend('bad', cmpp));
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    expectError(res, res.status);
    const named = (res.body.errors as Array<{ field: string }>).map((e) => e.field);
    for (const field of fields) expect(named, JSON.stringify(res.body)).toContain(field);
    // The secret sent is not echoed back.
    if (
      typeof (cmpp as { secret?: unknown })?.secret === 'string' &&
      (cmpp as { secret: string }).secret.length > 3
    )
      expect(res.text).not.toContain((cmpp as { secret: string }).secret);
    expect(await revisionCount(app)).toBe(before);
    await app.request.get('/api/v1/backends/bad').expect(404);
  });

  it('the same through PUT /config and POST /config/validate: fields named from the root, never a 5xx', async () => {
    const config = (await app.request.get('/api/v1/config').expect(200)).body;
    const doc = {
      defaults: config.defaults,
      frontends: config.frontends,
      backends: [
        ...config.backends,
        cmppBackend('bad', { sourceAddr: '9012345', secret: '', version: '4.0' }),
      ],
    };
    const i = doc.backends.length - 1;
    for (const path of ['/api/v1/config/validate']) {
      const res = await app.request.post(path).send(doc);
      expect(res.status).toBeLessThan(500);
      const text = JSON.stringify(res.body);
      for (const f of ['sourceAddr', 'secret', 'version'])
        expect(text).toContain(`backends[${i}].check.cmpp.${f}`);
    }
    const put = await app.request.put('/api/v1/config').send(doc);
    expect(put.status, JSON.stringify(put.body)).toBeGreaterThanOrEqual(400);
    expect(put.status).toBeLessThan(500);
  });
});

describe('the CMPP check secret', () => {
  it('is in no answer of any role: writes, dry runs, stats, sessions, events, metrics, errors', async () => {
    const created = await app.request
      .post('/api/v1/backends')
      .send(cmppBackend('ismg', { sourceAddr: '901234', secret: SECRET, version: '3.0' }));
    expect(created.status, created.text).toBe(201);
    const answers: Array<[string, string]> = [['POST /backends', created.text]];
    const patched = await app.request.patch('/api/v1/backends/ismg').send({
      check: {
        type: 'cmpp',
        inter: 30_000,
        cmpp: { sourceAddr: '901234', secret: SECRET, version: '2.0' },
      },
    });
    answers.push(['PATCH /backends/ismg', patched.text]);
    const config = (await app.request.get('/api/v1/config').expect(200)).body;
    const withSecret = {
      defaults: config.defaults,
      frontends: config.frontends,
      backends: config.backends.map((b: { name: string; check: { cmpp?: object } }) =>
        b.name === 'ismg' ? { ...b, check: { ...b.check, cmpp: { ...b.check.cmpp, secret: SECRET } } } : b,
      ),
    };
    answers.push([
      'POST /config/validate',
      (await app.request.post('/api/v1/config/validate').send(withSecret)).text,
    ]);
    answers.push(['PUT /config', (await app.request.put('/api/v1/config').send(withSecret)).text]);
    // A bad document carrying the secret: the error answer does not echo it.
    const bad = {
      ...withSecret,
      frontends: [{ name: 'x', bind: { address: '127.0.0.1', port: 0 }, backend: 'ismg' }],
    };
    answers.push(['PUT /config (bad)', (await app.request.put('/api/v1/config').send(bad)).text]);
    answers.push([
      'POST /config/validate (bad)',
      (await app.request.post('/api/v1/config/validate').send(bad)).text,
    ]);
    const revisions = (await app.request.get('/api/v1/revisions').expect(200)).body;
    const ids = (Array.isArray(revisions) ? revisions : revisions.items).map((r: { id: number }) => r.id);
    const reads = [
      '/api/v1/config',
      '/api/v1/backends',
      '/api/v1/backends/ismg',
      '/api/v1/backends/ismg/servers',
      '/api/v1/audit',
      '/api/v1/events',
      '/api/v1/stats',
      '/api/v1/stats?format=csv',
      '/api/v1/stats/history',
      '/api/v1/sessions',
      '/metrics',
      '/api/v1/export/haproxy.cfg',
      ...ids.flatMap((id: number) => [
        `/api/v1/revisions/${id}`,
        `/api/v1/revisions/${id}/diff?against=${Math.min(...ids)}`,
        `/api/v1/revisions/${id}/haproxy.cfg`,
      ]),
    ];
    for (const role of ROLES) {
      const client = await app.as(role);
      for (const path of reads) {
        const res = await client.get(path);
        expect(res.status, `${role} ${path}`).toBeLessThan(500);
        answers.push([`${role} GET ${path}`, res.text]);
      }
      for (const id of ids) {
        const res = await client.post(`/api/v1/revisions/${id}/rollback/validate`).send({});
        expect(res.status, `${role} rollback/validate ${id}`).toBeLessThan(500);
        answers.push([`${role} POST rollback/validate ${id}`, res.text]);
      }
    }
    const leaks = answers.filter(([, text]) => text.includes(SECRET)).map(([what]) => what);
    expect(leaks).toEqual([]);
  });
});
