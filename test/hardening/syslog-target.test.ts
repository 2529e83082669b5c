// `defaults.log`, the syslog target of the session lines, through the real app: only an admin sets it, and
// never to an address that reaches many hosts (broadcast, multicast), whichever door (PUT, dry run, import).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport } from '../import/import-helpers.js';
import { freePort } from '../helpers/net.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.close();
});

async function documentWithLog(log: unknown) {
  const { defaults, frontends, backends } = (await t.request.get('/api/v1/config')).body;
  return { defaults: { ...defaults, log }, frontends, backends };
}

it('refuses a broadcast or multicast syslog target with 400 naming defaults.log.address, changing nothing', async () => {
  const before = (await t.request.get('/api/v1/config')).body;
  const cases: Array<[string, string]> = [
    ['255.255.255.255', 'must not be the broadcast address'],
    ['224.0.0.1', 'must not be a multicast address'],
    ['239.255.255.250', 'must not be a multicast address'],
    ['ff02::1', 'must not be a multicast address'],
    ['::ffff:224.0.0.1', 'must not be a multicast address'],
  ];
  for (const [address, problem] of cases) {
    const doc = await documentWithLog({ address, port: 514, facility: 'local0' });
    for (const res of [
      await t.request.post('/api/v1/config/validate').send(doc),
      await t.request.put('/api/v1/config').send(doc),
    ]) {
      expect(res.status, `${address}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          field: 'defaults.log.address',
          message: `defaults.log.address ${problem}, got ${JSON.stringify(address)}`,
        }),
      ]);
    }
  }
  expect((await t.request.get('/api/v1/config')).body).toEqual(before);
});

it('an imported `log` line to a multicast group is refused the same way', async () => {
  const before = (await t.request.get('/api/v1/config')).body;
  const port = await freePort();
  const cfg = [
    'global',
    '    log 224.0.0.1:514 local0',
    'defaults',
    '    mode tcp',
    'frontend f',
    `    bind 127.0.0.1:${port}`,
    '    default_backend b',
    'backend b',
    '    server s1 127.0.0.1:9',
  ].join('\n');
  const res = await postImport(t, cfg);
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(JSON.stringify(res.body.errors)).toContain('defaults.log.address');
  expect((await t.request.get('/api/v1/config')).body).toEqual(before);
});

it('takes a unicast IPv4 or IPv6 target, and only from an admin', async () => {
  const doc = await documentWithLog({ address: '127.0.0.1', port: 5514, facility: 'local3' });
  for (const role of ['viewer', 'operator'] as const) {
    const client = await t.as(role);
    expect((await client.put('/api/v1/config').send(doc)).status).toBe(403);
  }
  expect((await t.request.put('/api/v1/config').send(doc)).status).toBe(200);
  const six = await documentWithLog({ address: '::1', port: 5514, facility: 'local3' });
  expect((await t.request.put('/api/v1/config').send(six)).status).toBe(200);
  expect((await t.request.get('/api/v1/config')).body.defaults.log).toEqual({
    address: '::1',
    port: 5514,
    facility: 'local3',
  });
});
