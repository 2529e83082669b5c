// Small helpers shared by the control-plane tests: request bodies, revision counting, listener probes
// and a CMPP-like gateway that answers SUBMIT with SUBMIT_RESP.
import net, { type Socket } from 'node:net';
import { expect } from 'vitest';
import { freePort, listen, type TestServer } from '../helpers/net.js';
import type { StartedApp } from '../helpers/app.js';

export function serverBody(name: string, port: number, extra: Record<string, unknown> = {}) {
  return { name, address: '127.0.0.1', port, ...extra };
}

export function backendBody(
  name: string,
  servers: ReturnType<typeof serverBody>[] = [],
  extra: Record<string, unknown> = {},
) {
  return { name, balance: 'roundrobin', check: { type: 'none' }, servers, ...extra };
}

export function frontendBody(
  name: string,
  port: number,
  backend: string,
  extra: Record<string, unknown> = {},
) {
  return { name, bind: { address: '127.0.0.1', port }, backend, ...extra };
}

export async function revisionCount(t: StartedApp): Promise<number> {
  const res = await t.request.get('/api/v1/revisions?limit=1');
  expect(res.status).toBe(200);
  return res.body.total as number;
}

export async function headRevision(t: StartedApp): Promise<number> {
  const res = await t.request.get('/api/v1/config');
  expect(res.status).toBe(200);
  return res.body.revision as number;
}

/** true when something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(2000, () => done(false));
  });
}

/**
 * Expects the error shape (docs/api-errors.md) `{ statusCode, error, message, code, field?, errors }`
 * with the field named; the top level repeats the first entry of `errors`.
 */
export function expectError(
  res: { status: number; body: Record<string, unknown> },
  status: number,
  field?: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({
    statusCode: status,
    error: expect.any(String),
    message: expect.any(String),
    code: expect.any(String),
  });
  const errors = res.body.errors as Array<{ field: string; code: string; message: string }>;
  expect(Array.isArray(errors) && errors.length >= 1 && errors.length <= 20, JSON.stringify(res.body)).toBe(
    true,
  );
  expect(errors[0]).toEqual({
    field: (res.body.field as string | undefined) ?? '',
    code: res.body.code,
    message: res.body.message,
  });
  if (field !== undefined) {
    expect(res.body.field).toBe(field);
    expect(res.body.message as string).toContain(field);
  }
}

/**
 * The live frontend the validation tests keep an eye on: backend `b` (server `s1` on `upstreamPort`)
 * behind frontend `live` on a free port of 127.0.0.1. Resolves with that port.
 */
export async function addLiveFrontend(t: StartedApp, upstreamPort: number): Promise<number> {
  const livePort = await freePort();
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('s1', upstreamPort)]))
    .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('live', livePort, 'b'))
    .expect(201);
  return livePort;
}

export type ApiResponse = { status: number; body: Record<string, unknown> };

/**
 * Sends a request that must be refused with `status` (naming `field`, when given) and checks that it
 * changed nothing: the revision count, the config, and the live frontend on `livePort` still accepts.
 */
export async function refusedUnchanged(
  t: StartedApp,
  livePort: number,
  send: () => Promise<ApiResponse>,
  status: number,
  field?: string,
): Promise<ApiResponse> {
  const count = await revisionCount(t);
  const before = (await t.request.get('/api/v1/config')).body;
  const res = await send();
  expectError(res, status, field);
  expect(await revisionCount(t)).toBe(count);
  expect((await t.request.get('/api/v1/config')).body).toEqual(before);
  expect(await accepts(livePort)).toBe(true);
  return res;
}

// ---- a CMPP-like gateway ----

const SUBMIT = 0x00000004;
const SUBMIT_RESP = 0x80000004;
const CONNECT = 0x00000001;
const CONNECT_RESP = 0x80000001;
const ACTIVE_TEST = 0x00000008;
const ACTIVE_TEST_RESP = 0x80000008;

export interface Gateway extends TestServer {
  id: number;
  /** Stops accepting new connections; the open ones stay (like a process that stopped listening). */
  stopListening(): Promise<void>;
}

/**
 * Answers CONNECT, ACTIVE_TEST and SUBMIT; a SUBMIT_RESP carries the gateway's id in its Msg_Id so
 * the client can tell which gateway answered.
 */
export async function cmppGateway(id: number): Promise<Gateway> {
  const server = await listen((socket) => serveCmpp(socket, id));
  return {
    ...server,
    id,
    stopListening: () => new Promise<void>((resolve) => server.server.close(() => resolve())),
  };
}

function serveCmpp(socket: Socket, id: number): void {
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 12) {
      const length = buffer.readUInt32BE(0);
      if (length < 12 || length > 4096) return void socket.destroy();
      if (buffer.length < length) return;
      const command = buffer.readUInt32BE(4);
      const sequence = buffer.readUInt32BE(8);
      buffer = buffer.subarray(length);
      if (command === SUBMIT) socket.write(frame(SUBMIT_RESP, sequence, submitRespBody(id)));
      else if (command === CONNECT) socket.write(frame(CONNECT_RESP, sequence, Buffer.alloc(21)));
      else if (command === ACTIVE_TEST) socket.write(frame(ACTIVE_TEST_RESP, sequence, Buffer.alloc(1)));
    }
  });
  socket.on('end', () => socket.end());
}

function frame(command: number, sequence: number, body: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32BE(12 + body.length, 0);
  header.writeUInt32BE(command >>> 0, 4);
  header.writeUInt32BE(sequence, 8);
  return Buffer.concat([header, body]);
}

function submitRespBody(id: number): Buffer {
  const body = Buffer.alloc(12); // Msg_Id 8 bytes + Result 4 bytes (CMPP 3.0)
  body.writeUInt32BE(id, 4);
  return body;
}

/** A CMPP client connection through Tether. */
export interface CmppClient {
  socket: Socket;
  /** Sends a SUBMIT and resolves with the id of the gateway that answered. */
  submit(timeoutMs?: number): Promise<number>;
  close(): void;
}

export async function cmppClient(port: number, localAddress: string): Promise<CmppClient> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let sequence = 0;
  let buffer = Buffer.alloc(0);
  const waiting = new Map<number, (id: number) => void>();
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 12 && buffer.length >= buffer.readUInt32BE(0)) {
      const length = buffer.readUInt32BE(0);
      const command = buffer.readUInt32BE(4);
      const seq = buffer.readUInt32BE(8);
      if (command === SUBMIT_RESP) waiting.get(seq)?.(buffer.readUInt32BE(16));
      buffer = buffer.subarray(length);
    }
  });
  return {
    socket,
    submit: (timeoutMs = 3000) =>
      new Promise<number>((resolve, reject) => {
        const seq = ++sequence;
        const timer = setTimeout(
          () => reject(new Error(`no SUBMIT_RESP for ${seq} from ${localAddress}`)),
          timeoutMs,
        );
        socket.once('close', () => reject(new Error(`connection from ${localAddress} closed`)));
        waiting.set(seq, (id) => {
          clearTimeout(timer);
          waiting.delete(seq);
          resolve(id);
        });
        // A minimal SUBMIT: the gateway only looks at the header.
        socket.write(frame(SUBMIT, seq, Buffer.alloc(151)));
      }),
    close: () => socket.destroy(),
  };
}
