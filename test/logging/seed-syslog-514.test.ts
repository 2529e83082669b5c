// Issue 9, point 6, literally: the seed's `log 127.0.0.1 local2` line as written (no port: syslog's 514) sends each
// ended session to 127.0.0.1:514 over UDP, as HAProxy does. Port 514 is privileged and may be taken: the test binds
// its sink there when it can and says why it skips otherwise (config-syslog.test.ts covers the same path on a free
// port, with the port written into the line).
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import {
  closed,
  connect,
  echo,
  freePort,
  listen,
  readBytes,
  waitFor,
  type TestServer,
} from '../helpers/net.js';
import { postImport, seedOn } from '../import/import-helpers.js';

const sink = dgram.createSocket('udp4');
const lines: string[] = [];
sink.on('message', (m) => {
  if (lines.length < 100) lines.push(m.toString());
});
const bound = await new Promise<string | undefined>((resolve) => {
  sink.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  sink.bind(514, '127.0.0.1', () => resolve(undefined));
});
if (bound !== undefined) console.warn(`skipping the syslog test on 127.0.0.1:514: ${bound}`);

describe.skipIf(bound !== undefined)('the seed’s `log 127.0.0.1 local2`, verbatim', () => {
  let t: StartedApp;
  const upstreams: TestServer[] = [];
  beforeAll(async () => {
    t = await startApp({ env: { TETHER_SOCKET: 'off' } });
    for (let i = 0; i < 3; i++) upstreams.push(await listen(echo));
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(upstreams.map((u) => u.close()));
    sink.close();
  });

  it('sends each ended session to 127.0.0.1:514 as local2.info (<150>)', async () => {
    const port = await freePort();
    const cfg = seedOn(
      port,
      upstreams.map((u) => u.port),
      '127.0.0.1',
    );
    expect(cfg).toContain('    log 127.0.0.1 local2\n');
    const res = await postImport(t, cfg);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const client = await connect(port);
    const clientPort = client.localPort!;
    client.write('hello');
    await readBytes(client, 5);
    client.end();
    await closed(client);
    await waitFor(
      () => lines.some((l) => l.includes(`127.0.0.1:${clientPort} `)),
      5000,
      'the datagram on 514',
    );
    const line = lines.find((l) => l.includes(`127.0.0.1:${clientPort} `))!;
    expect(line).toMatch(
      new RegExp(
        `^<150>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d tether\\[\\d+\\]: 127\\.0\\.0\\.1:${clientPort} \\[[^\\]]+\\] ` +
          'persistent_connection_frontend persistent_connection_backend/server[123] \\d+/\\d+/\\d+ 5 -- ',
      ),
    );
  });
});
