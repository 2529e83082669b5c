// The session log in the appliance as `npm start` runs it (compiled src/main.ts in its own process): tcplog lines on
// stdout with TETHER_LOG_FORMAT=haproxy and to syslog with TETHER_SYSLOG; a bad TETHER_LOG_FORMAT refused at start.
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import supertest from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDbPath } from '../helpers/app.js';
import { loginToken } from '../helpers/auth.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import { closed, echo, freePort, listen, readBytes, waitFor, type TestServer } from '../helpers/net.js';
import { udpSink } from '../helpers/udp-sink.js';

const PASSWORD = 'session-log-test-password-1';
let compiled: CompiledApp;
const db = tempDbPath();
let running: ApplianceProcess | undefined;
let backendServer: TestServer | undefined;
let udp: dgram.Socket | undefined;

beforeAll(async () => {
  compiled = await compileApp();
}, 120_000);

afterAll(async () => {
  running?.child.kill('SIGKILL');
  udp?.close();
  await backendServer?.close();
  compiled?.remove();
  db.cleanup();
});

it('refuses an unknown TETHER_LOG_FORMAT at start, naming the variable', async () => {
  const app = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(await freePort()),
    TETHER_LOG_FORMAT: 'xml',
  });
  expect(await app.exited).not.toBe(0);
  expect(app.output()).toMatch(/TETHER_LOG_FORMAT must be one of json, haproxy, got "xml"/);
}, 30_000);

it('logs an ended session as a tcplog line on stdout and to the syslog target', async () => {
  const sink = await udpSink();
  udp = sink.socket;
  const datagrams = sink.lines;
  backendServer = await listen(echo);
  const httpPort = await freePort();
  const port = await freePort();
  running = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: 'log',
    TETHER_ADMIN_PASSWORD: PASSWORD,
    TETHER_SOCKET: 'off',
    TETHER_LOG_FORMAT: 'haproxy',
    TETHER_SYSLOG: `127.0.0.1:${udp.address().port},local2`,
  });
  await untilListening(running);
  const url = `http://127.0.0.1:${httpPort}`;
  const token = await loginToken(url, 'admin', PASSWORD);
  const cfg = `defaults\n  mode tcp\nfrontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${backendServer.port}\n`;
  const res = await supertest(url)
    .post('/api/v1/import/haproxy')
    .set('Authorization', `Bearer ${token}`)
    .set('content-type', 'text/plain')
    .send(cfg);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);

  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  const clientPort = c.localPort;
  c.write('through the appliance');
  await readBytes(c, 21);
  c.end();
  await closed(c);

  const line = new RegExp(
    `127\\.0\\.0\\.1:${clientPort} \\[\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] fe be/s1 0/\\d+/\\d+ 21 -- 1/1/0/0/0 0/0`,
  );
  await waitFor(() => line.test(running!.output()), 5000, `the tcplog line on stdout:\n${running.output()}`);
  await waitFor(() => datagrams.length > 0, 5000, 'the syslog datagram');
  expect(datagrams).toHaveLength(1);
  expect(datagrams[0]).toMatch(/^<150>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d tether\[\d+\]: /);
  expect(datagrams[0]).toMatch(line);
}, 60_000);
