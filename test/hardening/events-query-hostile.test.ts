// GET /api/v1/events and GET /api/v1/stats/history attacked as a viewer and without credentials (issue 13's new
// server surface): odd, huge, negative, NaN and repeated query values are a 400 whose message names the parameter and
// says what it takes (not whichever bound failed first), filters with odd characters match exactly (no wildcard),
// every answer is bounded, a viewer can read both and change nothing, never a 5xx.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventLogService } from '../../src/events/event-log.service.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import type { Client } from '../helpers/auth.js';

let t: StartedApp;
let viewer: Client;
/** More stored events than the default limit answers. */
const STORED = 130;

beforeAll(async () => {
  t = await startApp();
  viewer = await t.as('viewer');
  const log = t.app.get(EventLogService);
  for (let i = 0; i < STORED; i++)
    log.record({
      type: 'drain',
      backend: 'gw',
      server: `s${i % 3}`,
      text: `gw/s${i % 3} drain ${i}`,
      detail: {},
    });
  await log.flush();
});

afterAll(async () => {
  await t?.close();
});

interface ErrorBody {
  statusCode: number;
  message: string;
  field?: string;
  errors: Array<{ field: string; message: string }>;
}

async function refused(path: string, field: string, says: RegExp): Promise<ErrorBody> {
  const res = await viewer.get(path);
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
  const body = res.body as ErrorBody;
  expect(body.field, path).toBe(field);
  // One message per parameter, and it says what is expected.
  expect(
    body.errors.filter((e) => e.field === field),
    path,
  ).toHaveLength(1);
  expect(body.message, path).toMatch(says);
  return body;
}

it('limit and since: one message saying what they take, whatever was sent', async () => {
  const limit = /^limit must be a whole number from 1 to 1000, in plain digits, got /;
  for (const value of [
    'abc',
    'NaN',
    '1e3',
    '0x10',
    '',
    '%20',
    '-1',
    '0',
    '1001',
    '99999999999999999999999',
    '1.5',
  ])
    await refused(`/api/v1/events?limit=${value}`, 'limit', limit);
  expect((await refused('/api/v1/events?limit=abc', 'limit', limit)).message).toContain('got "abc"');
  const repeated = await refused('/api/v1/events?limit=1&limit=2', 'limit', limit);
  expect(repeated.message).toContain('2 values (give it once)');

  const since = /^since must be a time in ms since the epoch, in plain digits, got /;
  for (const path of ['/api/v1/events', '/api/v1/stats/history'])
    for (const value of ['abc', 'NaN', '-5', '1e3', '1.5', '', '99999999999999999999', 'Infinity'])
      await refused(`${path}?since=${value}`, 'since', since);
  // A long value is quoted short.
  const long = await refused(`/api/v1/events?since=${'9'.repeat(500)}`, 'since', since);
  expect(long.message.length).toBeLessThan(160);
});

it('the name filters: given once, at most 64 characters, matched exactly (no wildcard)', async () => {
  const text = /must be one text of at most 64 characters, got /;
  expect((await refused('/api/v1/events?backend=a&backend=b', 'backend', text)).message).toContain(
    'give it once',
  );
  await refused(`/api/v1/events?server=${'x'.repeat(65)}`, 'server', text);
  await refused('/api/v1/events?frontend[]=a', 'frontend[]', /should not exist/);
  await refused('/api/v1/events?server[a]=1', 'server[a]', /should not exist/);
  await refused('/api/v1/events?type=health&type=drain', 'type', /^type must be one of/);

  // SQL LIKE wildcards, quotes, NUL, percent-encoded junk: exact matches, so none of them finds gw's events.
  for (const odd of ['%25', 'g_', '%25%25', "gw'--", '%22gw%22', 'gw%00', '%ff%fe', '*', 'GW', ' gw'])
    expect((await viewer.get(`/api/v1/events?backend=${odd}`).expect(200)).body, odd).toEqual([]);
  expect((await viewer.get('/api/v1/events?backend=gw&server=s1&limit=1000').expect(200)).body).toHaveLength(
    Array.from({ length: STORED }, (_, i) => i).filter((i) => i % 3 === 1).length,
  );
});

it('answers are bounded: 100 newest by default, at most 1000, the total in X-Total-Count', async () => {
  const all = await viewer.get('/api/v1/events?type=drain').expect(200);
  expect(all.body).toHaveLength(100);
  expect(Number(all.headers['x-total-count'])).toBe(STORED);
  expect(all.body[0].text).toBe(`gw/s${(STORED - 1) % 3} drain ${STORED - 1}`);
  const max = await viewer.get('/api/v1/events?type=drain&limit=1000').expect(200);
  expect(max.body).toHaveLength(STORED);
  const future = await viewer.get(`/api/v1/events?since=${Number.MAX_SAFE_INTEGER}`).expect(200);
  expect(future.body).toEqual([]);
  // History: oldest first, within the last hour, never from the future.
  // The ring takes its first sample a second after start: wait for it (bounded), as a loaded machine may be slower.
  let history: Array<{ t: number }> = [];
  for (let tries = 0; tries < 50 && history.length === 0; tries++) {
    if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    history = (await viewer.get('/api/v1/stats/history?since=0').expect(200)).body as Array<{ t: number }>;
  }
  expect(history.length).toBeGreaterThan(0);
  for (let i = 1; i < history.length; i++) expect(history[i].t).toBeGreaterThan(history[i - 1].t);
  expect(history[0].t).toBeGreaterThan(Date.now() - 2 * 3_600_000);
  expect(
    (await viewer.get(`/api/v1/stats/history?since=${Number.MAX_SAFE_INTEGER}`).expect(200)).body,
  ).toEqual([]);
});

it('a viewer reads and cannot act; without credentials nothing is answered', async () => {
  for (const path of ['/api/v1/events', '/api/v1/stats/history', '/api/v1/events?limit=abc']) {
    const res = await t.anonymous.get(path);
    expect(res.status, path).toBe(401);
  }
  for (const method of ['post', 'put', 'patch', 'delete'] as const)
    for (const path of ['/api/v1/events', '/api/v1/stats/history']) {
      const res = await viewer[method](path).send({});
      expect([403, 404], `${method} ${path}`).toContain(res.status);
    }
  const before = (await t.request.get('/api/v1/config').expect(200)).body.revision;
  expect((await viewer.put('/api/v1/config').send({ frontends: [], backends: [] })).status).toBe(403);
  expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(before);
  // Still stored, all of them: nothing the viewer sent removed an event.
  expect(
    Number((await viewer.get('/api/v1/events?type=drain&limit=1').expect(200)).headers['x-total-count']),
  ).toBe(STORED);
});
