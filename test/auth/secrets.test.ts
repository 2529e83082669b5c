// Issue 4, point 5 (masking is the control plane's; checked here across roles): the CMPP check secret never comes
// back in clear from any route, whatever the role, and sending the mask back keeps the stored value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/auth/roles.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';

const SECRET = 'cmpp-Secret-7f3a9';

describe('CMPP check secret', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
    await t.request
      .post('/api/v1/backends')
      .send({
        name: 'ismg',
        // A CMPP login check (its server unchecked: nothing logs in); its credentials are stored and masked.
        check: {
          type: 'cmpp',
          inter: 60_000,
          cmpp: { sourceAddr: '901234', secret: SECRET, version: '2.0' },
        },
        servers: [{ name: 'gw1', address: '127.0.0.1', port: 9, check: false }],
      })
      .expect(201);
  });
  afterAll(() => t?.close());

  it('is masked for every role on every read route, the audit log and revision diffs included', async () => {
    const revisions = (await t.request.get('/api/v1/revisions')).body;
    const ids = (Array.isArray(revisions) ? revisions : revisions.items).map((r: { id: number }) => r.id);
    const paths = [
      '/api/v1/config',
      '/api/v1/backends',
      '/api/v1/backends/ismg',
      '/api/v1/audit',
      ...ids.map((id: number) => `/api/v1/revisions/${id}`),
      ...ids.map((id: number) => `/api/v1/revisions/${id}/diff?against=${Math.min(...ids)}`),
      '/api/v1/export/haproxy.cfg',
      ...ids.map((id: number) => `/api/v1/revisions/${id}/haproxy.cfg`),
    ];
    for (const role of ROLES) {
      const client = await t.as(role);
      for (const path of paths) {
        const res = await client.get(path);
        expect(res.status, `${role} ${path}`).toBe(200);
        expect(res.text, `${role} ${path}`).not.toContain(SECRET);
      }
    }
    const backend = (await t.request.get('/api/v1/backends/ismg')).body;
    expect(backend.check.cmpp.secret).toMatch(/^\*+$/);
  });

  it('keeps the stored secret when an update sends the mask back', async () => {
    const backend = (await t.request.get('/api/v1/backends/ismg')).body;
    const res = await t.request
      .patch('/api/v1/backends/ismg')
      .send({ check: { ...backend.check, inter: 30_000 } })
      .expect(200);
    expect(res.text).not.toContain(SECRET);
    const stored = readDatabase(
      t.dbPath,
      (db) =>
        (db.prepare('SELECT "check" FROM backends WHERE name = ?').get('ismg') as { check: string }).check,
    );
    expect(stored).toContain(SECRET);
    expect(stored).toContain('30000');
  });
});
