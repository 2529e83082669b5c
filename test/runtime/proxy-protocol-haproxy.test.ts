// Interoperability: the PROXY headers we send are read back by a real HAProxy (Debian's 2.6) with
// `accept-proxy`, which answers with the addresses it parsed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeProxyV1, encodeProxyV2 } from '../../src/runtime/proxy-protocol.js';
import { freePort } from '../helpers/net.js';

const haproxyAvailable = spawnSync('haproxy', ['-v']).status === 0;
if (!haproxyAvailable)
  console.warn(
    'skipping the PROXY header interop test: haproxy is not installed (apt-get install -y haproxy)',
  );

/** Sends header + an HTTP request; returns HAProxy's body "src src_port dst dst_port", or the error. */
function ask(host: string, port: number, header: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () =>
      socket.end(Buffer.concat([header, Buffer.from('GET / HTTP/1.0\r\n\r\n')])),
    );
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve((data.split('\r\n\r\n')[1] ?? data).trim()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe.skipIf(!haproxyAvailable)('PROXY headers read by HAProxy', () => {
  let dir: string;
  let haproxy: ChildProcess;
  let port4: number;
  let port6: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-pp-'));
    port4 = await freePort('127.0.0.1');
    port6 = await freePort('::1');
    const config = [
      'global',
      '  nbthread 1',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend pp',
      `  bind 127.0.0.1:${port4} accept-proxy`,
      `  bind [::1]:${port6} accept-proxy`,
      '  http-request return status 200 content-type text/plain lf-string "%[src] %[src_port] %[dst] %[dst_port]"',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const probe = net.connect({ host: '127.0.0.1', port: port4 }, () => resolve(true));
        probe.on('error', () => resolve(false));
        probe.on('connect', () => probe.destroy());
      });
      if (up) break;
      if (Date.now() > deadline) throw new Error('haproxy did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      haproxy.kill('SIGTERM');
      await new Promise((resolve) => haproxy.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads v1 and v2 IPv4 headers', async () => {
    const src = { address: '127.0.0.2', port: 51234 };
    const dst = { address: '127.0.0.1', port: 9999 };
    expect(await ask('127.0.0.1', port4, encodeProxyV1(src, dst))).toBe('127.0.0.2 51234 127.0.0.1 9999');
    expect(await ask('127.0.0.1', port4, encodeProxyV2(src, dst))).toBe('127.0.0.2 51234 127.0.0.1 9999');
  });

  it('reads v1 and v2 IPv6 headers', async () => {
    const src = { address: '2001:db8::1', port: 51234 };
    const dst = { address: '2001:db8::2', port: 443 };
    expect(await ask('::1', port6, encodeProxyV1(src, dst))).toBe('2001:db8::1 51234 2001:db8::2 443');
    expect(await ask('::1', port6, encodeProxyV2(src, dst))).toBe('2001:db8::1 51234 2001:db8::2 443');
  });

  it('reads IPv4-mapped clients as IPv4, and mixed families in v2 as IPv4-mapped IPv6', async () => {
    const mapped = { address: '::ffff:10.1.2.3', port: 4000 };
    const dst = { address: '127.0.0.1', port: 9999 };
    expect(await ask('127.0.0.1', port4, encodeProxyV1(mapped, dst))).toBe('10.1.2.3 4000 127.0.0.1 9999');
    expect(await ask('127.0.0.1', port4, encodeProxyV2(mapped, dst))).toBe('10.1.2.3 4000 127.0.0.1 9999');
    const mixed = encodeProxyV2({ address: '10.0.0.1', port: 1000 }, { address: '::1', port: 443 });
    expect(await ask('127.0.0.1', port4, mixed)).toBe('::ffff:10.0.0.1 1000 ::1 443');
  });

  it('falls back to the real connection addresses for v1 UNKNOWN and v2 LOCAL', async () => {
    const unknown = encodeProxyV1({ address: '10.0.0.1', port: 1000 }, { address: '::1', port: 443 });
    expect(await ask('127.0.0.1', port4, unknown)).toMatch(
      new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${port4}$`),
    );
    const local = encodeProxyV2({ address: 'not-an-ip', port: 1 }, { address: '127.0.0.1', port: 2 });
    expect(await ask('127.0.0.1', port4, local)).toMatch(
      new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${port4}$`),
    );
  });
});
