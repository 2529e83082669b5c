// Bodies that are small but wide, from the lowest role: an object with 100,000 unknown keys (1 MB) held the event loop
// for 19 s while validation refused each key, and 200,000 empty frontends (586 KB) answered 54 MB, one message per
// missing field. Objects wider than MAX_JSON_KEYS are refused before validation; an answer spells out at most
// MAX_REPORTED_PROBLEMS problems and counts the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_KEYS } from '../../src/common/json-body.js';
import { MAX_REPORTED_PROBLEMS } from '../../src/common/validation.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { requestFrom } from '../helpers/http-from.js';

describe('wide bodies', () => {
  let t: StartedApp;
  let viewer: string;

  beforeAll(async () => {
    t = await startApp();
    viewer = await t.tokenFor('viewer');
  });
  afterAll(() => t?.close());

  const validate = (body: unknown) =>
    requestFrom(t.url, '/api/v1/config/validate', {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}` },
      body: JSON.stringify(body),
      timeoutMs: 60_000,
    });
  const withKeys = (n: number) => ({
    frontends: [],
    backends: [],
    ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1])),
  });

  it('refuses an object with more keys than any real one has, naming the body', async () => {
    const answer = await validate(withKeys(20_000));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ field: 'body' });
    expect((answer.json as { message: string }).message).toContain(`more than ${MAX_JSON_KEYS} properties`);
    // At the bound, validation does the refusing, naming the first unknown key.
    const atBound = await validate(withKeys(MAX_JSON_KEYS - 2));
    expect(atBound.status).toBe(400);
    expect(atBound.json).toMatchObject({ field: 'k0' });
  });

  it('answers a body with 40,000 problems in a few kilobytes, counting what it does not spell out', async () => {
    const answer = await validate({ frontends: Array(40_000).fill({}), backends: [] });
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(16 * 1024);
    const { message, field } = answer.json as { message: string; field: string };
    expect(field).toBe('frontends[0].name');
    expect(message.split('; ')).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    expect(message).toMatch(/; and \d+ more problem\(s\)$/);
  });
});
