// Bodies that are small but wide, from the lowest role: an object with 100,000 unknown keys (1 MB) held the event loop
// for 19 s while validation refused each key, and 200,000 empty frontends (586 KB) answered 54 MB, one message per
// missing field. Objects wider than MAX_JSON_KEYS are refused before validation, lists longer than the config limits
// before validation too, and an answer lists at most MAX_ERROR_ENTRIES problems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_KEYS } from '../../src/common/json-body.js';
import { MAX_ERROR_ENTRIES } from '../../src/common/errors.js';
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

  it('answers a body with 12,000 problems in a few kilobytes, listing the first ones', async () => {
    const answer = await validate({ frontends: Array(4_000).fill({}), backends: [] });
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(16 * 1024);
    const { field, errors } = answer.json as { field: string; errors: Array<{ field: string }> };
    expect(field).toBe('frontends[0].name');
    expect(errors).toHaveLength(MAX_ERROR_ENTRIES);
  });

  it('refuses a list longer than the config limits before validating any of it', async () => {
    const started = Date.now();
    const answer = await validate({ frontends: Array(200_000).fill({}), backends: [] });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'frontends' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
