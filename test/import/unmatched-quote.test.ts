// A quote left open on a haproxy.cfg line: HAProxy 2.6 refuses the file ("unmatched quote"), so the import refuses
// it too (400 naming the line) instead of guessing where the word ends; `tcp-check send "PING` was imported as a
// check that sends PING, one HAProxy never runs. Nothing is applied.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport } from './import-helpers.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.close();
});

const file = (line: string) =>
  `frontend f\n bind 127.0.0.1:7000\n default_backend b\nbackend b\n option tcp-check\n ${line}\n server s 127.0.0.1:1 check\n`;

it.each([
  ['tcp-check send "PING', 'double'],
  ["tcp-check expect string 'PONG", 'single'],
  ['tcp-check send "a # b', 'double'],
])('%s is refused with its line, nothing applied', async (line) => {
  const before = (await t.request.get('/api/v1/config').expect(200)).body.revision;
  for (const query of [{ dryRun: 'true' }, {}] as Array<Record<string, string>>) {
    const res = await postImport(t, file(line), query);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const errors = res.body.errors as Array<{ field: string; message: string }>;
    expect(errors).toContainEqual(
      expect.objectContaining({
        field: 'line 6',
        message: expect.stringContaining('unmatched quote at position'),
      }),
    );
  }
  expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(before);
});

it('closed quotes, escaped quotes and quotes in comments still import', async () => {
  const res = await postImport(t, file(`tcp-check send "a\\"b 'c'" # it's "fine`), { dryRun: 'true' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.config.backends[0].check.steps).toEqual([{ send: `a"b 'c'` }]);
});
