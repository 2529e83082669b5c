// Issue 9, point 1: the seed file exactly as the issue prints it (test/haproxy/fixtures/seed.cfg, ports 9999 and
// 9315-9317 as written), dry-run through the REST API and through `npm run import -- <file> --dry-run`: the whole
// config it gives, every warning with its line and text, and nothing applied. (The tests that serve it rewrite
// only its ports: haproxy-import.test.ts.)
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src/cli/import.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport, SEED } from './import-helpers.js';

const SEED_PATH = fileURLToPath(new URL('../haproxy/fixtures/seed.cfg', import.meta.url));

const WARNINGS = [
  { line: 4, text: 'daemon', message: expect.stringMatching(/^`daemon` is not imported/) },
  {
    line: 5,
    text: 'stats socket /var/run/haproxy.sock mode 600 level admin',
    message: expect.stringMatching(
      /^stats socket \/var\/run\/haproxy\.sock \(level admin\) noted but not imported/,
    ),
  },
  { line: 6, text: 'stats timeout 2m', message: expect.stringMatching(/`stats` is not imported/) },
  {
    line: 11,
    text: 'option dontlognull',
    message: expect.stringMatching(/^`option dontlognull` is not imported/),
  },
  {
    line: 22,
    text: 'backend persistent_connection_backend',
    message: expect.stringMatching(/has no `retries` or `option redispatch`/),
  },
];

describe('the seed file of issue 9, verbatim', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('dry-runs through the API to the config it describes, with its five warnings', async () => {
    expect(SEED).toContain('    bind *:9999\n');
    const res = await postImport(t, SEED, { dryRun: 'true' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, valid: true, revision: 0, changed: true });
    expect(res.body.config.defaults).toMatchObject({
      maxconn: 50000,
      timeouts: { connect: 5000, client: 3_600_000, server: 3_600_000, check: 5000 },
      log: { address: '127.0.0.1', port: 514, facility: 'local2' },
    });
    expect(res.body.config.frontends).toEqual([
      {
        name: 'persistent_connection_frontend',
        bind: { address: '0.0.0.0', port: 9999 },
        binds: [{ address: '0.0.0.0', port: 9999 }],
        backend: 'persistent_connection_backend',
        // `defaults` maxconn 50000 is the global one: it never bites first, so no limit of the frontend's own.
        enabled: true,
      },
    ]);
    expect(res.body.config.backends).toHaveLength(1);
    expect(res.body.config.backends[0]).toMatchObject({
      name: 'persistent_connection_backend',
      balance: 'source',
      check: { type: 'tcp', inter: 5000, fall: 3, rise: 2, timeout: 5000 },
    });
    expect(res.body.config.backends[0].servers).toEqual(
      [9315, 9316, 9317].map((port, i) => ({
        name: `server${i + 1}`,
        address: '127.0.0.1',
        port,
        weight: 1,
        backup: false,
        check: true,
      })),
    );
    expect(res.body.impact.listenersOpened).toEqual([
      { frontend: 'persistent_connection_frontend', address: '0.0.0.0', port: 9999 },
    ]);
    expect(res.body.warnings.filter((w: { line: number }) => w.line > 0)).toEqual(WARNINGS);
    expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(0);
  });

  it('dry-runs with `npm run import -- seed.cfg --dry-run`: exit 0, the warnings by line on stderr', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runImport(
      [SEED_PATH, '--dry-run'],
      { TETHER_URL: t.url, TETHER_TOKEN: await t.tokenFor('admin') },
      { out: (l) => stdout.push(l), err: (l) => stderr.push(l), stdin: async () => '' },
    );
    expect(code, stderr.join('\n')).toBe(0);
    expect(stdout.join('\n')).toMatch(/dry run against revision 0: \d+ change\(s\), nothing applied/);
    for (const w of WARNINGS) expect(stderr.join('\n')).toContain(`warning: line ${w.line}: ${w.text}`);
    expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(0);
  });
});
