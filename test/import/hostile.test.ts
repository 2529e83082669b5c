// Hostile haproxy.cfg bodies on POST /api/v1/import/haproxy (issue 9, point 1): whatever the text, the answer is
// never a 5xx, comes in bounded time, a refused file changes nothing, and the body limit is exactly 1 MiB.
// The time bound is generous (15 s per request on a loaded 2-core machine; a linear parse of 1 MiB takes well under
// a second here): it catches quadratic or unbounded work, not a slow run.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport } from './import-helpers.js';

const MiB = 1024 * 1024;
const BOUND_MS = 15_000;

function repeat(count: number, make: (i: number) => string): string {
  let text = '';
  for (let i = 0; i < count; i++) text += make(i);
  return text;
}

/** Bodies up to 1 MiB, each with what the answer must be. */
const HOSTILE: { name: string; body: string | Buffer; status: number[] }[] = [
  {
    name: '10,000 backend sections',
    body: repeat(10_000, (i) => `backend b${i}\n server s 127.0.0.1:1\n`),
    status: [413],
  },
  {
    name: '10,000 frontend sections, each a range of 64 ports',
    body:
      repeat(
        10_000,
        (i) => `frontend f${i}\n bind 127.0.${i >> 8}.${i & 255}:2000-2063\n default_backend b\n`,
      ).slice(0, MiB - 40) + '\nbackend b\n server s 127.0.0.1:1\n',
    status: [413],
  },
  { name: 'one line of 1 MiB', body: 'x'.repeat(MiB), status: [400] },
  { name: '250,000 continued lines', body: `frontend f \\\n${'x \\\n'.repeat(250_000)}`, status: [400] },
  { name: '1 MiB of backslashes', body: '\\'.repeat(MiB), status: [400] },
  { name: 'an unterminated quote of 1 MiB', body: `frontend "${'a'.repeat(MiB - 20)}`, status: [400] },
  { name: '200,000 ${VAR} references', body: `frontend f\n${'${A}'.repeat(200_000)}`, status: [400] },
  { name: '500,000 words on a bind line', body: `frontend f\n bind ${'a '.repeat(500_000)}`, status: [400] },
  {
    name: '340,000 addresses on one bind line',
    body: `frontend f\n bind ${':1,'.repeat(340_000)}\n default_backend b\nbackend b\n server s 127.0.0.1:1\n`,
    status: [200],
  },
  {
    name: '60,000 acl blocks',
    body: `frontend f\n bind :9\n${' acl a src 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8\n'.repeat(15_000)} tcp-request connection reject if !a\n default_backend b\nbackend b\n server s 127.0.0.1:1\n`,
    status: [413],
  },
  { name: '40,000 servers', body: `backend b\n${' server s 127.0.0.1:1\n'.repeat(40_000)}`, status: [413] },
  {
    name: 'a default-server of 170,000 words',
    body: `backend b\n default-server ${'check '.repeat(170_000)}\n server s 127.0.0.1:1\n`,
    status: [200],
  },
  {
    name: 'NUL bytes',
    body: Buffer.concat([Buffer.from('frontend f\0x\n bind :9\0\n'), Buffer.alloc(MiB - 30)]),
    status: [400],
  },
  { name: '1 MiB of random bytes', body: randomBytes(MiB), status: [400] },
  { name: 'exactly 1 MiB of comment', body: `# ${'c'.repeat(MiB - 3)}\n`, status: [400] },
  { name: '1 MiB + 1 byte', body: `# ${'c'.repeat(MiB - 2)}\n`, status: [413] },
];

describe('hostile haproxy.cfg imports', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  for (const { name, body, status } of HOSTILE) {
    it(`${name}: ${status.join('/')}, no 5xx, in bounded time, nothing changed`, async () => {
      const before = (await t.request.get('/api/v1/config').expect(200)).body.revision as number;
      for (const query of [{ dryRun: 'true' }, ...(status[0] === 200 ? [] : [{}])]) {
        const started = Date.now();
        const res = await t.request
          .post('/api/v1/import/haproxy')
          .query(query)
          .set('content-type', 'text/plain')
          .send(body);
        expect(Date.now() - started, 'answered in bounded time').toBeLessThan(BOUND_MS);
        expect(status, `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toContain(res.status);
        if (res.status >= 400) {
          expect(res.body.errors.length).toBeGreaterThan(0);
          expect(res.body.message).toBeTruthy();
        }
        // Warnings are bounded however many lines are bad, and quote at most 200 characters of a line.
        expect((res.body.warnings ?? []).length).toBeLessThanOrEqual(1001);
        // and a message of at most 400, however long the name it quotes: a 1 MiB body never answers megabytes.
        for (const w of res.body.warnings ?? []) {
          expect(w.text.length).toBeLessThanOrEqual(200);
          expect(w.message.length).toBeLessThanOrEqual(400);
        }
        for (const e of res.body.errors ?? []) expect(e.message.length).toBeLessThanOrEqual(600);
        expect(JSON.stringify(res.body).length).toBeLessThan(MiB);
      }
      expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(before);
    }, 60_000);
  }

  it('refuses a NUL byte as HAProxy does, naming its line and position', async () => {
    const res = await postImport(
      t,
      'frontend f\n bind :9\n default_backend b\nbackend b\n server s 127.0.0.1:1\0\n',
      {
        dryRun: 'true',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'line 5',
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(
          /^line 5 \(server s 127\.0\.0\.1:1\): stray NUL character at position 22: not a text file/,
        ),
      },
    ]);
  });

  it('refuses a viewer and a wrong content type before reading the file', async () => {
    const viewer = await t.as('viewer');
    const denied = await viewer
      .post('/api/v1/import/haproxy')
      .set('content-type', 'text/plain')
      .send('x'.repeat(MiB));
    expect(denied.status).toBe(403);
    const json = await postImport(t, 'frontend f').set('content-type', 'application/octet-stream');
    expect(json.status).toBe(415);
  });
});
