// PROXY protocol toward servers: the header arrives first, then the client's bytes. The server side
// parses what arrives per the spec (haproxy.org/download/2.6/doc/proxy-protocol.txt), independently
// of our encoder.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SendProxy } from '../../src/schema/snapshot.js';
import {
  backend,
  freePort,
  frontend,
  listen,
  readBytes,
  server,
  snapshot,
  type TestServer,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, client } = closeAfterEach();

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

interface Parsed {
  family: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  rest: Buffer;
}

function parseV1(data: Buffer): Parsed {
  const end = data.indexOf('\r\n');
  expect(end).toBeGreaterThan(0);
  expect(end + 2).toBeLessThanOrEqual(107); // the spec's maximum line length
  const fields = data.subarray(0, end).toString('ascii').split(' ');
  expect(fields).toHaveLength(6);
  expect(fields[0]).toBe('PROXY');
  return {
    family: fields[1],
    src: fields[2],
    dst: fields[3],
    srcPort: Number(fields[4]),
    dstPort: Number(fields[5]),
    rest: data.subarray(end + 2),
  };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function parseV2(data: Buffer): Parsed {
  expect(data.subarray(0, 12).equals(V2_SIGNATURE)).toBe(true);
  expect(data[12]).toBe(0x21); // version 2, command PROXY
  const famByte = data[13];
  const length = data.readUInt16BE(14);
  const body = data.subarray(16, 16 + length);
  const rest = data.subarray(16 + length);
  if (famByte === 0x11) {
    expect(length).toBe(12);
    return {
      family: 'TCP4',
      src: [...body.subarray(0, 4)].join('.'),
      dst: [...body.subarray(4, 8)].join('.'),
      srcPort: body.readUInt16BE(8),
      dstPort: body.readUInt16BE(10),
      rest,
    };
  }
  expect(famByte).toBe(0x21);
  expect(length).toBe(36);
  return {
    family: 'TCP6',
    src: ipv6(body.subarray(0, 16)),
    dst: ipv6(body.subarray(16, 32)),
    srcPort: body.readUInt16BE(32),
    dstPort: body.readUInt16BE(34),
    rest,
  };
}

/** A server that records the first bytes each connection sends. */
async function recorder(): Promise<{ server: TestServer; first: Promise<Buffer> }> {
  let resolveFirst: (b: Buffer) => void = () => {};
  const first = new Promise<Buffer>((resolve) => (resolveFirst = resolve));
  const server = await listen((socket: Socket) => {
    void readBytes(socket, 1).then(async (start) => {
      // Give the rest of the header and payload a moment to arrive, then hand everything over.
      const more = await readBytes(socket, 1_000_000, 150).catch(() => Buffer.alloc(0));
      resolveFirst(Buffer.concat([start, more]));
    });
  });
  defer(() => server.close());
  return { server, first };
}

async function through(
  mode: SendProxy,
  family: 4 | 6,
): Promise<{ parsed: Parsed; client: Socket; port: number }> {
  const { server: target, first } = await recorder();
  const bindAddress = family === 4 ? '127.0.0.1' : '::1';
  const port = await freePort(bindAddress);
  const rt = runtime();
  await rt.apply(
    snapshot(
      [frontend('fe', port, 'be', { bind: { address: bindAddress, port } })],
      [backend('be', [server('s1', target.port)], { sendProxy: mode })],
    ),
  );
  const socket = await client(port, family === 4 ? { localAddress: '127.0.0.2' } : { host: '::1' });
  socket.write('payload after the header');
  const data = await first;
  return { parsed: mode === 'v1' ? parseV1(data) : parseV2(data), client: socket, port };
}

describe('PROXY protocol toward servers', () => {
  const cases = [
    {
      title: 'sends a v1 header for an IPv4 client first, then the client bytes',
      mode: 'v1' as const,
      family: 4 as const,
      header: { family: 'TCP4', src: '127.0.0.2', dst: '127.0.0.1' },
    },
    {
      title: 'sends a v1 header for an IPv6 client',
      mode: 'v1' as const,
      family: 6 as const,
      header: { family: 'TCP6', src: '::1', dst: '::1' },
    },
    {
      title: 'sends a v2 header for an IPv4 client',
      mode: 'v2' as const,
      family: 4 as const,
      header: { family: 'TCP4', src: '127.0.0.2', dst: '127.0.0.1' },
    },
    {
      title: 'sends a v2 header for an IPv6 client',
      mode: 'v2' as const,
      family: 6 as const,
      header: { family: 'TCP6', src: '0:0:0:0:0:0:0:1', dst: '0:0:0:0:0:0:0:1' },
    },
  ];
  for (const { title, mode, family, header } of cases) {
    it(title, async () => {
      const { parsed, client, port } = await through(mode, family);
      expect(parsed).toMatchObject({ ...header, srcPort: client.localPort, dstPort: port });
      expect(parsed.rest.toString()).toBe('payload after the header');
    });
  }

  it('sends nothing extra with sendProxy none', async () => {
    const { server: target, first } = await recorder();
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', target.port)])]));
    const socket = await client(port);
    socket.write('plain');
    expect((await first).toString()).toBe('plain');
  });
});
