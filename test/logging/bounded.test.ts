// The session log never grows without bound (docs/session-logs.md, "Never blocking, never growing"): a destination
// nobody reads and a flood of syslog sends both end in counted drops, not in queues.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionLog } from '../../src/logging/session-log.js';
import { SyslogSender } from '../../src/logging/syslog.js';
import type { SessionEndRecord } from '../../src/runtime/types.js';
import { sleep } from '../helpers/net.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const record: SessionEndRecord = {
  id: '1',
  clientAddress: '127.0.0.1',
  clientPort: 40000,
  acceptedAt: Date.now(),
  frontend: 'fe',
  backend: 'be',
  server: 's1',
  tw: 0,
  tc: 1,
  tt: 2,
  bytesRead: 3,
  bytesUploaded: 4,
  termination: '--',
  reason: '',
  actconn: 1,
  feconn: 1,
  beconn: 0,
  srvConn: 0,
  retries: 0,
  redispatched: false,
  srvQueue: 0,
  backendQueue: 0,
};

describe('bounded session log', () => {
  it('drops and counts lines once maxBuffered bytes wait for a reader that never reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-fifo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'stuck');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Opened read-write, it never blocks; nobody reads it, so the pipe's 64 KiB fill and stay full.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    cleanups.push(() => closeSync(fd));
    const log = new SessionLog({ format: 'json', destination: fd, maxBuffered: 256 * 1024 });
    for (let i = 0; i < 5000; i++) {
      log.write(record);
      if (i % 500 === 0) await sleep(5);
    }
    // About 300 bytes a line: 1.5 MB written, at most 64 KiB in the pipe and 256 KiB held; the rest dropped.
    expect(log.droppedLines).toBeGreaterThan(3000);
    expect(log.droppedLines).toBeLessThan(5000);
    // Closing doesn't wait for that reader beyond the flush timeout.
    const started = Date.now();
    await log.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps at most 1024 syslog sends in flight and counts the rest as dropped', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    cleanups.push(() => receiver.close());
    const sender = new SyslogSender({ host: '127.0.0.1', port: receiver.address().port, facility: 'local0' });
    cleanups.push(() => sender.close());
    for (let i = 0; i < 5000; i++) sender.send(`line ${i}`);
    // The sends of one tick all wait on the socket's first bind: 1024 go, the others are dropped.
    expect(sender.dropped).toBe(5000 - 1024);
  });
});
