// The config's syslog target (`defaults.log`, docs/session-logs.md): the seed file imported with its
// `log 127.0.0.1 local2` line pointed at this test's UDP socket sends each ended session there as an RFC 3164
// line; a change of the target applies live, without a restart; none in the config falls back to TETHER_SYSLOG;
// a bad target is refused naming every field and changes nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import {
  closed,
  connect,
  echo,
  freePort,
  listen,
  readBytes,
  sleep,
  waitFor,
  type TestServer,
} from '../helpers/net.js';
import { udpSink, type UdpSink } from '../helpers/udp-sink.js';
import { postImport, seedOn } from '../import/import-helpers.js';

let t: StartedApp;
let appliance: UdpSink;
let imported: UdpSink;
let changed: UdpSink;
const upstreams: TestServer[] = [];
let frontendPort: number;

beforeAll(async () => {
  [appliance, imported, changed] = [await udpSink(), await udpSink(), await udpSink()];
  t = await startApp({ env: { TETHER_SYSLOG: `127.0.0.1:${appliance.port},local0`, TETHER_SOCKET: 'off' } });
  for (let i = 0; i < 3; i++) upstreams.push(await listen(echo));
  frontendPort = await freePort();
});

afterAll(async () => {
  await t?.close();
  await Promise.all(upstreams.map((u) => u.close()));
  for (const sink of [appliance, imported, changed]) sink?.socket.close();
});

/** One session through the seed's frontend; its client port identifies its log line. */
async function oneSession(): Promise<number> {
  const client = await connect(frontendPort);
  const clientPort = client.localPort!;
  client.write('hello');
  await readBytes(client, 5);
  client.end();
  await closed(client);
  return clientPort;
}

/** `pri`: facility × 8 + 6 (info): local2 150, local0 134. */
const lineOf = (clientPort: number, pri = 150) =>
  new RegExp(
    `^<${pri}>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d tether\\[\\d+\\]: 127\\.0\\.0\\.1:${clientPort} \\[[^\\]]+\\] ` +
      `persistent_connection_frontend persistent_connection_backend/server[123] 0/\\d+/\\d+ 5 -- \\d+/\\d+/\\d+/\\d+/0 0/0\\n$`,
  );

async function config(): Promise<
  { revision: number; defaults: Record<string, unknown> } & Record<string, unknown>
> {
  return (await t.request.get('/api/v1/config').expect(200)).body;
}

it('sends session lines to the target of the imported global `log` line, not to TETHER_SYSLOG', async () => {
  const cfg = seedOn(
    frontendPort,
    upstreams.map((u) => u.port),
    '127.0.0.1',
  ).replace('log 127.0.0.1 local2', `log 127.0.0.1:${imported.port} local2`);
  expect(cfg).toContain(`log 127.0.0.1:${imported.port} local2`);
  const res = await postImport(t, cfg);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect((await config()).defaults.log).toEqual({
    address: '127.0.0.1',
    port: imported.port,
    facility: 'local2',
  });

  const clientPort = await oneSession();
  await waitFor(() => imported.lines.length > 0, 5000, 'the syslog datagram at the imported target');
  expect(imported.lines).toHaveLength(1);
  expect(imported.lines[0]).toMatch(lineOf(clientPort));
  await sleep(100);
  expect(appliance.lines).toEqual([]);
});

it('moves to a changed target live, and back to TETHER_SYSLOG when the config has none', async () => {
  const current = await config();
  const { revision, ...document } = current;
  const moved = await t.request
    .put('/api/v1/config')
    .set('If-Match', `"${revision}"`)
    .send({
      ...document,
      defaults: { ...current.defaults, log: { address: '127.0.0.1', port: changed.port } },
    })
    .expect(200);
  // Facility left out: local0 (priority 134).
  expect(moved.body.defaults.log).toEqual({ address: '127.0.0.1', port: changed.port, facility: 'local0' });
  const movedPort = await oneSession();
  await waitFor(() => changed.lines.length > 0, 5000, 'the syslog datagram at the changed target');
  expect(changed.lines[0]).toMatch(lineOf(movedPort, 134));

  const none = await t.request
    .put('/api/v1/config')
    .send({ ...document, defaults: { ...current.defaults, log: null } })
    .expect(200);
  expect(none.body.defaults.log).toBeUndefined();
  const fallbackPort = await oneSession();
  await waitFor(() => appliance.lines.length > 0, 5000, 'the syslog datagram at TETHER_SYSLOG');
  expect(appliance.lines[0]).toMatch(lineOf(fallbackPort, 134));
  expect(imported.lines).toHaveLength(1);
  expect(changed.lines).toHaveLength(1);
});

it('refuses a bad target naming every field, and changes nothing', async () => {
  const before = await config();
  const { revision, ...document } = before;
  const res = await t.request.put('/api/v1/config').send({
    ...document,
    defaults: { ...before.defaults, log: { address: 'syslog.example.net', port: 0, facility: 'local9' } },
  });
  expect(res.status).toBe(400);
  const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
  expect(fields).toEqual(['defaults.log.address', 'defaults.log.facility', 'defaults.log.port']);
  for (const address of ['0.0.0.0', '::', 42]) {
    const zero = await t.request
      .put('/api/v1/config')
      .send({ ...document, defaults: { ...before.defaults, log: { address, port: 514 } } });
    expect(zero.status, String(address)).toBe(400);
    expect(zero.body.errors.map((e: { field: string }) => e.field)).toEqual(['defaults.log.address']);
  }
  expect(await config()).toEqual({ ...before, revision });
});
