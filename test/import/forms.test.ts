// Issue 9, point 1: every haproxy.cfg form the issue lists, from Tether's own fixtures (test/import/fixtures),
// dry-run through POST /api/v1/import/haproxy on the real app: the config it gives and every warning, with its
// line and text. forms.cfg holds the forms HAProxy 2.6 accepts (checked with `haproxy -c` when installed);
// forms-legacy.cfg those seen in the wild that HAProxy 2.6 itself refuses (`listen NAME addr:port`, backslash
// continuations, no final newline) and that the import takes all the same.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport } from './import-helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const FORMS = readFileSync(fixture('forms.cfg'), 'utf8');
const LEGACY = readFileSync(fixture('forms-legacy.cfg'), 'utf8');
const HAPROXY = '/usr/sbin/haproxy';

/** The 1-based line of the fixture that starts with `start` (after its indentation): found in the file, not by the parser. */
function lineOf(text: string, start: string): number {
  const index = text.split('\n').findIndex((l) => l.trim().startsWith(start));
  if (index < 0) throw new Error(`no line starts with ${start}`);
  return index + 1;
}

interface Warning {
  line: number;
  text: string;
  message: string;
}

/** The warnings about lines of the file (line 0 is about the file as a whole). */
const onLines = (warnings: Warning[]) => warnings.filter((w) => w.line > 0);

function haproxyCheck(path: string, env: Record<string, string> = {}) {
  const run = spawnSync(HAPROXY, ['-c', '-f', path], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ...env },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the haproxy.cfg forms of issue 9', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it.skipIf(!existsSync(HAPROXY))(
    'forms.cfg is a file HAProxy 2.6 runs; forms-legacy.cfg one it refuses',
    () => {
      const forms = haproxyCheck(fixture('forms.cfg'), { FORMS_SITE: 'lab' });
      expect(forms.status, forms.output).toBe(0);
      const legacy = haproxyCheck(fixture('forms-legacy.cfg'));
      expect(legacy.status).not.toBe(0);
      expect(legacy.output).toMatch(/forms-legacy\.cfg:3\] : please use the 'bind' keyword/);
      expect(legacy.output).toMatch(/Missing LF on last line/);
    },
  );

  it('imports every form: binds, tabs, comments, unitless timeouts, allow-list, default-server, maxconn, balance, hash-type', async () => {
    const res = await postImport(t, FORMS, { dryRun: 'true' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { config } = res.body;
    // global maxconn is the appliance's; unitless timeouts are milliseconds; trailing spaces and tabs don't matter.
    expect(config.defaults).toMatchObject({
      maxconn: 40000,
      timeouts: { connect: 4000, client: 600000, server: 600000 },
      log: { address: '127.0.0.1', port: 5514, facility: 'local3' },
    });
    expect(config.frontends).toEqual([
      {
        name: 'fe_forms',
        bind: { address: '0.0.0.0', port: 7101 },
        binds: [
          { address: '0.0.0.0', port: 7101 }, // *:p
          { address: '0.0.0.0', port: 7102 }, // :p
          { address: '0.0.0.0', port: 7103 }, // 0.0.0.0:p, then a second address on the line
          { address: '127.0.0.1', port: 7104 },
          { address: '::1', port: 7105 }, // ipv6@
          { address: '::', port: 7106 }, // [::]:p
        ],
        backend: 'be_hash', // use_backend without a condition
        maxconn: 2000,
        allow: ['10.0.0.0/8', '192.168.1.0/24', '127.0.0.0/8'], // both acl lines of one name
        enabled: true,
      },
      // `disabled`, and the maxconn of the defaults section before it.
      {
        name: 'li_first',
        bind: { address: '127.0.0.1', port: 7302 },
        binds: [{ address: '127.0.0.1', port: 7302 }],
        backend: 'li_first',
        maxconn: 30000,
        enabled: false,
      },
    ]);
    expect(config.backends.map((b: { name: string }) => b.name)).toEqual(['be_hash', 'li_first']);
    const [hash, first] = config.backends;
    expect(hash).toMatchObject({
      balance: 'source',
      hashType: 'consistent',
      check: { type: 'tcp', inter: 3000, fall: 2, rise: 3 },
    });
    // default-server gives check, weight and maxconn; a server's own words win.
    expect(hash.servers).toEqual([
      { name: 'h1', address: '127.0.0.1', port: 7201, weight: 20, maxconn: 100, backup: false, check: true },
      { name: 'h2', address: 'localhost', port: 7202, weight: 30, maxconn: 200, backup: false, check: true },
      { name: 'h3', address: '127.0.0.1', port: 7203, weight: 20, maxconn: 100, backup: true, check: true },
      { name: 'h4', address: '127.0.0.1', port: 7204, weight: 40, maxconn: 300, backup: false, check: true },
    ]);
    expect(first).toMatchObject({ balance: 'first' });
    expect(first.servers).toEqual([
      { name: 'f1', address: '127.0.0.1', port: 7321, weight: 1, maxconn: 10, backup: false, check: false },
      { name: 'f2', address: '127.0.0.1', port: 7322, weight: 1, maxconn: 10, backup: false, check: false },
    ]);

    const at = (start: string) => lineOf(FORMS, start);
    const text = (start: string) => FORMS.split('\n')[at(start) - 1].trim();
    expect(onLines(res.body.warnings)).toEqual([
      {
        line: at('stats socket'),
        text: 'stats socket /run/tether-forms.sock mode 660 level operator',
        message: expect.stringMatching(/stats socket \/run\/tether-forms\.sock \(level operator\) noted/),
      },
      {
        line: at('maxconn 500'),
        text: 'maxconn 500',
        message: expect.stringMatching(/`maxconn` in a backend does nothing/),
      },
      {
        line: at('server h2'),
        text: text('server h2'),
        message: expect.stringMatching(/`on-marked-up shutdown-backup-sessions` is not built/),
      },
      {
        line: at('server h3'),
        text: 'server h3 127.0.0.1:7203 backup disabled',
        message: expect.stringMatching(/`disabled` is a runtime state in Tether.*set it to maint/),
      },
      {
        line: at('description'),
        text: 'description ${FORMS_SITE}',
        message: expect.stringMatching(
          /\$\{FORMS_SITE\} is an environment variable HAProxy expands at start/,
        ),
      },
      {
        line: at('description'),
        text: 'description ${FORMS_SITE}',
        message: expect.stringMatching(/`description` is not imported/),
      },
      {
        line: at('frontend fe_web'),
        text: 'frontend fe_web',
        message: `frontend "fe_web" is in \`mode http\` (line ${at('frontend fe_web') + 1}): Tether is a TCP load balancer, the section is left out`,
      },
      {
        line: at('backend be_web'),
        text: 'backend be_web',
        message: `backend "be_web" is in \`mode http\` (line ${at('backend be_web') + 1}): Tether is a TCP load balancer, the section is left out`,
      },
      {
        line: at('backend be_hash'),
        text: 'backend be_hash',
        message: expect.stringMatching(
          /has no `retries` or `option redispatch`: HAProxy would retry a failed connect 3 times/,
        ),
      },
      {
        line: at('listen li_first'),
        text: 'listen li_first',
        message: expect.stringMatching(
          /has no `retries` or `option redispatch`: HAProxy would retry a failed connect 3 times/,
        ),
      },
      // The comment after the section keyword is not part of the quoted text.
      {
        line: at('frontend fe_forms'),
        text: 'frontend fe_forms',
        message: expect.stringMatching(/"fe_forms" has no `log global`.*\(line 5\)/),
      },
      {
        line: at('listen li_first'),
        text: 'listen li_first',
        message: expect.stringMatching(/"li_first" has no `log global`/),
      },
    ]);
  });

  it('strict mode refuses the file for its mode http sections, naming each line', async () => {
    const res = await postImport(t, FORMS, { dryRun: 'true', strict: 'true' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('NOT_IMPLEMENTED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([
      `line ${lineOf(FORMS, 'frontend fe_web')}`,
      `line ${lineOf(FORMS, 'backend be_web')}`,
    ]);
  });

  it('imports the forms HAProxy 2.6 refuses: no global, listen NAME addr:port, continuations, no final newline, CRLF', async () => {
    expect(LEGACY.endsWith('\n')).toBe(false);
    for (const text of [LEGACY, LEGACY.replace(/\n/g, '\r\n')]) {
      const res = await postImport(t, text, { dryRun: 'true' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.config.frontends).toEqual([
        {
          name: 'li_short',
          bind: { address: '127.0.0.1', port: 7301 },
          binds: [{ address: '127.0.0.1', port: 7301 }],
          backend: 'li_short',
          enabled: true,
        },
        {
          name: 'li_bare',
          bind: { address: '127.0.0.1', port: 7302 },
          binds: [{ address: '127.0.0.1', port: 7302 }],
          backend: 'li_bare',
          enabled: true,
        },
      ]);
      const [short, bare] = res.body.config.backends;
      expect(short).toMatchObject({ name: 'li_short', balance: 'roundrobin' });
      // Three lines joined into one server line, its words all read.
      expect(short.servers).toEqual([
        { name: 's1', address: '127.0.0.1', port: 7311, weight: 5, maxconn: 50, backup: false, check: true },
        { name: 's2', address: '127.0.0.1', port: 7312, weight: 1, backup: false, check: true },
      ]);
      // The last line, without its newline, is read.
      expect(bare.servers).toEqual([
        { name: 'l1', address: '127.0.0.1', port: 7331, weight: 1, backup: false, check: false },
      ]);
      expect(onLines(res.body.warnings)).toEqual([
        {
          line: lineOf(LEGACY, 'balance static-rr'),
          text: 'balance static-rr',
          message: expect.stringMatching(/`static-rr` imported as `roundrobin`/),
        },
        {
          line: 3,
          text: 'listen li_short 127.0.0.1:7301',
          message: expect.stringMatching(
            /has no `retries` or `option redispatch`: HAProxy would retry a failed connect 3 times/,
          ),
        },
        {
          line: lineOf(LEGACY, 'listen li_bare'),
          text: 'listen li_bare',
          message: expect.stringMatching(
            /has no `retries` or `option redispatch`: HAProxy would retry a failed connect 3 times/,
          ),
        },
      ]);
    }
  });

  it('takes `v4v6` silently (Tether’s `::` is dual-stack, its export writes it) and warns about `v6only`', async () => {
    const text = (option: string) =>
      `frontend f\n bind [::]:7501 ${option}\n default_backend b\nbackend b\n server s 127.0.0.1:1\n`;
    const dual = await postImport(t, text('v4v6'), { dryRun: 'true' });
    expect(dual.status).toBe(200);
    expect(dual.body.config.frontends[0].binds).toEqual([{ address: '::', port: 7501 }]);
    const onBind = (warnings: Warning[]) => warnings.filter((w) => w.line === 2);
    expect(onBind(dual.body.warnings)).toEqual([]);
    const only = await postImport(t, text('v6only'), { dryRun: 'true' });
    expect(onBind(only.body.warnings)).toEqual([
      {
        line: 2,
        text: 'bind [::]:7501 v6only',
        message: '`v6only` is not imported: Tether listening on `::` takes IPv4 connections too',
      },
    ]);
  });

  it('warns on the first line of a continued statement, quoting it joined', async () => {
    const text = LEGACY.replace('check \\\n\t    weight 5', 'check \\\n\t    weight 5 slowstart 10s');
    const res = await postImport(t, text, { dryRun: 'true' });
    expect(res.status).toBe(200);
    expect(onLines(res.body.warnings)).toContainEqual({
      line: lineOf(LEGACY, 'server s1'),
      text: 'server s1 127.0.0.1:7311 check  \t    weight 5 slowstart 10s  \t    maxconn 50',
      message: 'server parameter `slowstart 10s` is not imported',
    });
  });
});
