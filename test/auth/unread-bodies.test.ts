// Bodies are read only once the caller is let in (issue 8, point 10), but a refused request's body still arrived:
// Node kept the connection alive and read the rest of it to reach the next request, so an anonymous client could
// stream 200 MB (or an endless chunked body, until the request timeout) into the server after its 401. An answer given
// while the body is still unread now closes the connection instead.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';

const DECLARED = 200 * 1024 * 1024;

/** Sends `head` then body bytes until the server closes the connection or `DECLARED` bytes are sent. */
async function streamBody(
  url: string,
  head: string,
): Promise<{ answer: string; sent: number; closed: boolean }> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let answer = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined); // a reset once the server closes is expected
  socket.write(head);
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  let sent = 0;
  const started = Date.now();
  while (sent < DECLARED && !closed && !socket.destroyed && Date.now() - started < 20_000) {
    if (!socket.write(chunk)) {
      await new Promise((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
    }
    sent += chunk.length;
  }
  // Give a close that is on its way a moment to arrive.
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  return { answer, sent, closed };
}

describe('the body of a refused request', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['PUT /api/v1/config without credentials', 'PUT /api/v1/config', '', 401],
    ['POST to no route', 'POST /api/v1/nothing-here', '', 404],
  ])(
    '%s: answered, then the connection is closed, not drained',
    async (_name, requestLine, extra, status) => {
      const { answer, sent, closed } = await streamBody(
        t.url,
        `${requestLine} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${DECLARED}\r\n${extra}\r\n`,
      );
      expect(answer.split('\r\n')[0]).toBe(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}`,
      );
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(closed).toBe(true);
      expect(sent).toBeLessThan(DECLARED / 2);
    },
  );

  it('keeps the connection of a request whose body was read', async () => {
    const token = await t.tokenFor('viewer');
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const body = JSON.stringify({ frontends: [], backends: [] });
    const request = `POST /api/v1/config/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    socket.write(request + request);
    const started = Date.now();
    while ((answer.match(/HTTP\/1\.1 200/g) ?? []).length < 2 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    socket.destroy();
    expect((answer.match(/HTTP\/1\.1 200/g) ?? []).length).toBe(2);
    expect(answer).not.toMatch(/connection: close/i);
  });
});
