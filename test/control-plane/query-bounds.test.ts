// Never a 5xx for what a client sent: a paging offset or revision number past SQLite's integers (1e20 is a whole
// number to class-validator) reached the query and answered 500 "datatype mismatch", with a stack trace logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';

describe('numbers in query strings beyond what the database holds', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
    const made = await t.request.post('/api/v1/backends').send({ name: 'b1', servers: [] }); // a revision to diff
    expect(made.status, made.text).toBe(201);
  });
  afterAll(() => t?.close());

  it.each([
    ['/api/v1/audit', 'offset'],
    ['/api/v1/revisions', 'offset'],
    ['/api/v1/revisions/1/diff', 'against'],
  ])('%s?%s=1e20 is a 400 naming the parameter', async (path, field) => {
    for (const value of ['1e20', '99999999999999999999', String(2 ** 63)]) {
      const answer = await t.request.get(path).query({ [field]: value });
      expect(answer.status, `${field}=${value}: ${answer.text}`).toBe(400);
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
    // The largest accepted value still answers (an empty page, or no such revision).
    const largest = await t.request.get(path).query({ [field]: String(Number.MAX_SAFE_INTEGER) });
    expect(largest.status, largest.text).toBeLessThan(500);
  });
});
