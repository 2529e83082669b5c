// The session log's outputs: pino JSON lines, HAProxy's tcplog text line (checked field by field against the line a
// real HAProxy 2.6 sends for the same kind of session) and syslog over UDP (docs/session-logs.md).
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionLog } from '../../src/logging/session-log.js';
import { haproxyDate, tcplogLine } from '../../src/logging/tcplog-format.js';
import type { SessionEndRecord } from '../../src/runtime/types.js';
import {
  backend,
  closed,
  echo,
  freePort,
  frontend,
  readBytes,
  server,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { udpSink, type UdpSink } from '../helpers/udp-sink.js';
import { haproxyMissing, startHaproxy } from '../stats/haproxy.js';

const { defer, runtime, start, client } = closeAfterEach();

/** A UDP socket on loopback collecting the datagrams it receives. */
async function udpCollector(): Promise<UdpSink> {
  const sink = await udpSink();
  defer(() => sink.socket.close());
  return sink;
}

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-logs-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'sessions.log');
}

/** Runs one echoed session of `text` through a real runtime feeding `log`; resolves with its record. */
async function oneSession(
  log: SessionLog,
  text: string,
  names = ['fe', 'be', 's1'],
): Promise<SessionEndRecord> {
  const s1 = await start(echo);
  const port = await freePort();
  const rt = runtime();
  const records: SessionEndRecord[] = [];
  defer(
    rt.onSessionEnd((r) => {
      records.push(r);
      log.write(r);
    }),
  );
  await rt.apply(
    snapshot([frontend(names[0], port, names[1])], [backend(names[1], [server(names[2], s1.port)])]),
  );
  const c = await client(port);
  c.write(text);
  await readBytes(c, text.length);
  c.end();
  await closed(c);
  await waitFor(() => records.length === 1, 3000, 'the session record');
  return records[0];
}

/** A line's shape: every digit run becomes 9, so lines of the same kind of session compare equal. */
const shape = (line: string) => line.replace(/\d+/g, '9').split(' ');

describe('session log', () => {
  it('writes one pino JSON line per session: msg "session" and every record field', async () => {
    const file = tempFile();
    const log = new SessionLog({ format: 'json', destination: file });
    const record = await oneSession(log, 'json please');
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 30, msg: 'session', pid: process.pid, ...record });
    expect(typeof line.time).toBe('string');
  });

  it('writes the tcplog text line with TETHER_LOG_FORMAT=haproxy', async () => {
    const file = tempFile();
    const log = new SessionLog({ format: 'haproxy', destination: file });
    const r = await oneSession(log, 'text please');
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe(
      `127.0.0.1:${r.clientPort} [${haproxyDate(r.acceptedAt)}] fe be/s1 0/${r.tc}/${r.tt} 11 -- 1/1/0/0/0 0/0\n`,
    );
    expect(tcplogLine({ ...r, server: null, retries: 1, redispatched: true, termination: 'SC' })).toMatch(
      / fe be\/<NOSRV> 0\/-?\d+\/\d+ 11 SC 1\/1\/0\/0\/\+1 0\/0$/,
    );
    expect(haproxyDate(r.acceptedAt)).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('sends the tcplog line to syslog over UDP in RFC 3164 framing, facility local2 = <150>', async () => {
    const udp = await udpCollector();
    const log = new SessionLog({
      format: 'json',
      destination: tempFile(),
      syslog: { host: '127.0.0.1', port: udp.port, facility: 'local2' },
    });
    defer(() => log.close());
    const r = await oneSession(log, 'to syslog');
    await waitFor(() => udp.lines.length === 1, 3000, 'the syslog datagram');
    expect(udp.lines[0]).toMatch(
      new RegExp(
        `^<150>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d tether\\[${process.pid}\\]: 127\\.0\\.0\\.1:${r.clientPort} \\[`,
      ),
    );
    expect(udp.lines[0].endsWith(' fe be/s1 0/' + `${r.tc}/${r.tt} 9 -- 1/1/0/0/0 0/0\n`)).toBe(true);
    expect(log.syslogDropped).toBe(0);
  });

  it.skipIf(haproxyMissing() !== undefined)(
    'has the shape, field by field, of the line a real HAProxy 2.6 sends for the same session',
    async () => {
      const udp = await udpCollector();
      const s1 = await start(echo);
      const port = await freePort();
      const haproxy = await startHaproxy(
        `  log 127.0.0.1:${udp.port} local0\n` +
          `defaults\n  mode tcp\n  log global\n  option tcplog\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n` +
          `frontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\n` +
          `backend be\n  server s1 127.0.0.1:${s1.port}\n`,
      );
      defer(() => haproxy.stop());
      const c = net.connect(port, '127.0.0.1');
      await once(c, 'connect');
      c.write('same session');
      await readBytes(c, 12);
      c.end();
      await closed(c);
      await waitFor(() => udp.lines.some((l) => l.includes(' fe be/s1 ')), 5000, 'the HAProxy log line');
      const theirs = udp.lines.find((l) => l.includes(' fe be/s1 '))!;

      const ours = await udpCollector();
      const log = new SessionLog({
        format: 'haproxy',
        destination: tempFile(),
        syslog: { host: '127.0.0.1', port: ours.port, facility: 'local0' },
      });
      defer(() => log.close());
      await oneSession(log, 'same session');
      await waitFor(() => ours.lines.length === 1, 3000, 'our syslog line');
      const body = (line: string) => line.slice(line.indexOf(']: ') + 3);
      expect(shape(body(ours.lines[0]))).toEqual(shape(body(theirs)));
      // Same session, same values where they don't depend on timing or ports: names, bytes, state, counts, queues.
      const stable = (line: string) =>
        body(line)
          .split(' ')
          .filter((_, i) => ![0, 1, 4].includes(i));
      expect(stable(ours.lines[0])).toEqual(stable(theirs));
      // The syslog header too, the program name aside.
      const header = (line: string) =>
        line.slice(0, line.indexOf(']: ')).replace(/(haproxy|tether)\[/, 'PROG[');
      expect(shape(header(ours.lines[0]))).toEqual(shape(header(theirs)));
    },
  );
});
