// The 20 real-world TCP-mode files of ../shared/haproxy-corpus (beside the clone, as CI places it; never copied
// into the repo): none may make the import answer 5xx, and every file Debian's HAProxy accepts (`haproxy -c`)
// dry-runs to 200 with its config and its warnings.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';

const CORPUS = fileURLToPath(new URL('../../../shared/haproxy-corpus', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';
const files = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((f) => f.endsWith('.cfg'))
      .sort()
  : [];
if (files.length === 0) console.warn(`haproxy corpus tests skipped: no .cfg files in ${CORPUS}`);
const haproxyHere = existsSync(HAPROXY);
if (!haproxyHere) console.warn(`${HAPROXY} is missing: every corpus file is held to "never 5xx" only`);

/** Whether HAProxy itself accepts the file (a file that needs paths or names this machine lacks is exempt). */
function haproxyAccepts(path: string): boolean {
  if (!haproxyHere) return false;
  const run = spawnSync(HAPROXY, ['-c', '-f', path], { timeout: 20_000, stdio: 'ignore' });
  return run.status === 0;
}

describe.skipIf(files.length === 0)('haproxy corpus', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('holds the 20 files of the issue', () => {
    expect(files).toHaveLength(20);
  });

  for (const file of files) {
    it(`dry-runs ${file}`, async () => {
      const path = join(CORPUS, file);
      const res = await t.request
        .post('/api/v1/import/haproxy')
        .query({ dryRun: 'true' })
        .set('content-type', 'text/plain')
        .send(readFileSync(path, 'utf8'));
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
      if (!haproxyAccepts(path)) return;
      // A file HAProxy runs is a file the import carries over: a dry run that answers the config.
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.dryRun).toBe(true);
      expect(res.body.config.frontends.length + res.body.config.backends.length).toBeGreaterThan(0);
      expect(Array.isArray(res.body.warnings), 'the answer lists the warnings').toBe(true);
      for (const w of res.body.warnings)
        expect(w).toEqual({
          line: expect.any(Number),
          text: expect.any(String),
          message: expect.any(String),
        });
    });
  }
});
