import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSnapshot } from '../schema/check.js';
import { HaproxyImportError, parseHaproxyConfig, type ImportWarning } from './parse.js';
import { parseTime, splitHostPort } from './values.js';

const SEED = readFileSync(new URL('../../test/haproxy/fixtures/seed.cfg', import.meta.url), 'utf8');

/** A minimal TCP file around `body` lines of one backend, with a frontend pointing at it. */
function file(backendBody: string, frontendBody = '', extra = ''): string {
  return `${extra}\nfrontend fe\n  bind :7000\n  default_backend be\n${frontendBody}\nbackend be\n  server s1 10.0.0.1:25 check\n  # the body\n${backendBody}\n`;
}

function warningAt(warnings: ImportWarning[], line: number, pattern: RegExp): ImportWarning {
  const found = warnings.find((w) => w.line === line && pattern.test(w.message));
  expect(
    found,
    `a warning on line ${line} matching ${pattern}, got ${JSON.stringify(warnings, null, 1)}`,
  ).toBeDefined();
  return found!;
}

/** Warnings other than the file-wide ones and the retries advice (docs/haproxy-import.md): the check's own. */
function checkWarnings(warnings: ImportWarning[]): ImportWarning[] {
  return warnings.filter((w) => w.line > 0 && !/`retries`/.test(w.message));
}

function refusal(text: string, strict = false): HaproxyImportError {
  try {
    parseHaproxyConfig(text, { strict });
  } catch (error) {
    if (error instanceof HaproxyImportError) return error;
    throw error;
  }
  throw new Error('the file was imported');
}

describe('parseHaproxyConfig: the seed file', () => {
  it('imports the seed file of issue 9 as it is, the logging and daemon lines warned', () => {
    const { snapshot, warnings } = parseHaproxyConfig(SEED);
    expect(snapshot).toEqual({
      defaults: {
        maxconn: 50000,
        timeouts: { connect: 5000, client: 3_600_000, server: 3_600_000, check: 5000 },
        log: { address: '127.0.0.1', port: 514, facility: 'local2' },
      },
      frontends: [
        {
          name: 'persistent_connection_frontend',
          bind: { address: '0.0.0.0', port: 9999 },
          binds: [{ address: '0.0.0.0', port: 9999 }],
          backend: 'persistent_connection_backend',
          // defaults' maxconn 50000 is the global one: no limit of the frontend's own.
          enabled: true,
        },
      ],
      backends: [
        {
          name: 'persistent_connection_backend',
          balance: 'source',
          hashType: 'map-based',
          check: { type: 'tcp', inter: 5000, fall: 3, rise: 2, timeout: 5000 },
          sendProxy: 'none',
          onMarkedDown: 'keep',
          servers: [9315, 9316, 9317].map((port, i) => ({
            name: `server${i + 1}`,
            address: '127.0.0.1',
            port,
            weight: 1,
            backup: false,
            check: true,
          })),
        },
      ],
    });
    expect(checkSnapshot(snapshot)).toEqual([]);
    // `log 127.0.0.1 local2` (line 2) becomes defaults.log and `log global` (line 10) is understood: no warning.
    expect(warnings.filter((w) => w.line === 2 || w.line === 10)).toEqual([]);
    warningAt(warnings, 11, /dontlognull.*every session/);
    warningAt(warnings, 4, /daemon/);
    warningAt(warnings, 5, /stats socket \/var\/run\/haproxy.sock \(level admin\)/);
    warningAt(warnings, 6, /stats/);
    expect(warnings.every((w) => w.line > 0 && w.text.length > 0)).toBe(true);
  });
});

describe('parseHaproxyConfig: directives', () => {
  it('reads every bind address form', () => {
    const binds: Array<[string, string, number]> = [
      ['*:9999', '0.0.0.0', 9999],
      [':9999', '0.0.0.0', 9999],
      ['0.0.0.0:9999', '0.0.0.0', 9999],
      ['127.0.0.2:9999', '127.0.0.2', 9999],
      ['[::]:9999', '::', 9999],
      [':::9999', '::', 9999],
      ['ipv6@:::9999', '::', 9999],
      ['ipv6@::1:9999', '::1', 9999],
      ['ipv4@10.1.2.3:9999', '10.1.2.3', 9999],
      ['[::1]:9999', '::1', 9999],
    ];
    for (const [text, address, port] of binds) {
      const { snapshot } = parseHaproxyConfig(
        `frontend f\n bind ${text}\n default_backend b\nbackend b\n server s 10.0.0.1:1\n`,
      );
      expect(snapshot.frontends[0].bind, text).toEqual({ address, port });
    }
  });

  it('imports every bind: several addresses on a line, several lines, ranges up to the limit', () => {
    const text =
      'frontend f\n bind :7000,:7001\n bind 127.0.0.1:7002\n default_backend b\nbackend b\n server s 10.0.0.1:1\n';
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(snapshot.frontends[0].bind).toEqual({ address: '0.0.0.0', port: 7000 });
    expect(snapshot.frontends[0].binds).toEqual([
      { address: '0.0.0.0', port: 7000 },
      { address: '0.0.0.0', port: 7001 },
      { address: '127.0.0.1', port: 7002 },
    ]);
    expect(warnings.filter((w) => /bind/.test(w.message))).toEqual([]);
    expect(parseHaproxyConfig(text, { strict: true }).snapshot.frontends[0].binds).toHaveLength(3);
    const range = parseHaproxyConfig(text.replace(':7000,:7001', ':7000-7010'));
    expect(range.snapshot.frontends[0].binds.map((b) => b.port)).toEqual([
      7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009, 7010,
    ]);
    // 127.0.0.1:7002 is covered by the range's 0.0.0.0:7002: HAProxy runs both, Tether refuses the overlap.
    warningAt(range.warnings, 3, /127\.0\.0\.1:7002 .* left out: 0\.0\.0\.0:7002 \(line 2\)/);
    const huge = parseHaproxyConfig(text.replace(':7000,:7001', ':7000-7100'));
    expect(huge.snapshot.frontends[0].binds).toHaveLength(64);
    warningAt(huge.warnings, 2, /more than 64 addresses/);
  });

  it('turns `listen NAME addr:port` into a frontend and a backend of that name', () => {
    const { snapshot } = parseHaproxyConfig(
      'listen smpp 127.0.0.1:2775\n  balance leastconn\n  server a 10.0.0.1:2775 check\n',
    );
    expect(snapshot.frontends).toEqual([
      {
        name: 'smpp',
        bind: { address: '127.0.0.1', port: 2775 },
        binds: [{ address: '127.0.0.1', port: 2775 }],
        backend: 'smpp',
        enabled: true,
      },
    ]);
    expect(snapshot.backends[0]).toMatchObject({ name: 'smpp', balance: 'leastconn' });
  });

  it('applies each defaults section to the sections after it, and only to them', () => {
    const text = [
      'defaults',
      '  mode tcp',
      '  timeout connect 3s',
      '  timeout client 10m',
      '  balance leastconn',
      '  maxconn 300',
      'frontend a',
      '  bind :7000',
      '  default_backend ba',
      'backend ba',
      '  server s 10.0.0.1:1',
      'defaults',
      '  mode tcp',
      'frontend b',
      '  bind :7001',
      '  default_backend bb',
      'backend bb',
      '  server s 10.0.0.1:1',
    ].join('\n');
    const { snapshot } = parseHaproxyConfig(text);
    expect(snapshot.defaults.timeouts).toMatchObject({ connect: 3000, client: 600_000 });
    expect(snapshot.frontends.map((f) => f.maxconn)).toEqual([300, undefined]);
    expect(snapshot.backends.map((b) => b.balance)).toEqual(['leastconn', 'roundrobin']);
  });

  it('leaves a mode http section (own or inherited) out with a warning naming it; strict refuses', () => {
    const text = [
      'defaults',
      '  mode http',
      'frontend web',
      '  bind :80',
      '  default_backend webs',
      'backend webs',
      '  server w 10.0.0.1:80',
      'frontend smpp',
      '  mode tcp',
      '  bind :2775',
      '  default_backend gw',
      'backend gw',
      '  mode tcp',
      '  server g 10.0.0.2:2775',
    ].join('\n');
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(snapshot.frontends.map((f) => f.name)).toEqual(['smpp']);
    expect(snapshot.backends.map((b) => b.name)).toEqual(['gw']);
    warningAt(warnings, 3, /frontend "web" is in `mode http` \(line 2\)/);
    warningAt(warnings, 6, /backend "webs" is in `mode http`/);
    const refused = refusal(text, true);
    expect(refused.problems.map((p) => p.line)).toEqual([3, 6]);
  });

  it('reads balance, hash-type and warns about static-rr and unknown algorithms', () => {
    const cases: Array<[string, string]> = [
      ['balance source', 'source'],
      ['balance roundrobin', 'roundrobin'],
      ['balance leastconn', 'leastconn'],
      ['balance first', 'first'],
      ['balance static-rr', 'roundrobin'],
      ['balance uri', 'roundrobin'],
    ];
    for (const [line, balance] of cases) {
      const { snapshot, warnings } = parseHaproxyConfig(file(`  ${line}`));
      expect(snapshot.backends[0].balance, line).toBe(balance);
      expect(
        warnings.some((w) => w.line === 9),
        line,
      ).toBe(line === 'balance static-rr' || line === 'balance uri');
    }
    expect(parseHaproxyConfig(file('  hash-type consistent')).snapshot.backends[0].hashType).toBe(
      'consistent',
    );
    const { snapshot, warnings } = parseHaproxyConfig(file('  hash-type map-based sdbm avalanche'));
    expect(snapshot.backends[0].hashType).toBe('map-based');
    warningAt(warnings, 9, /hash function "sdbm avalanche"/);
  });

  it('reads timeouts in every unit; unitless is milliseconds; queue is warned, tunnel read', () => {
    const units: Array<[string, number]> = [
      ['1500', 1500],
      ['1500ms', 1500],
      ['2500us', 3],
      ['4s', 4000],
      ['3m', 180_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
    ];
    for (const [value, ms] of units) {
      const { snapshot } = parseHaproxyConfig(
        file(`  timeout connect ${value}\n  timeout server ${value}`, `  timeout client ${value}`),
      );
      expect(snapshot.defaults.timeouts, value).toMatchObject({ connect: ms, client: ms, server: ms });
    }
    expect(parseTime('30d')?.ms).toBe(2_147_483_647);
    expect(parseTime('5 s')).toBeUndefined();
    const { warnings } = parseHaproxyConfig(
      file('  timeout queue 5s\n  timeout tunnel 1h\n  timeout check 2s'),
    );
    warningAt(warnings, 9, /timeout queue.*Tether has no server queue/);
    expect(warnings.some((w) => w.line === 10)).toBe(false);
    expect(parseHaproxyConfig(file('  timeout tunnel 1h')).snapshot.defaults.timeouts.tunnel).toBe(3_600_000);
    expect(parseHaproxyConfig(file('  timeout check 2s')).snapshot.backends[0].check.timeout).toBe(2000);
  });

  it('warns about timeouts on the wrong side, and an empty listen section', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      file(
        '  timeout client 9s',
        '  timeout server 8s\n  timeout check 7s',
        'listen nothing\n  stats enable\n',
      ),
    );
    warningAt(warnings, 7, /`timeout server` does nothing in a frontend/);
    warningAt(warnings, 8, /`timeout check` does nothing in a frontend/);
    warningAt(warnings, 12, /`timeout client` does nothing in a backend/);
    warningAt(warnings, 1, /listen "nothing" has neither a bind nor a server/);
    expect(snapshot.defaults.timeouts).toMatchObject({ client: 3_600_000, server: 3_600_000, check: 5000 });
  });

  it('reads server and default-server parameters', () => {
    const text = [
      'backend b',
      '  default-server inter 3s fall 5 rise 4 weight 10 maxconn 200',
      '  server a 10.0.0.1:2775 check',
      '  server b gw2.example.net:2775 check weight 20 backup send-proxy-v2 on-marked-down shutdown-sessions',
      '  server c 10.0.0.3:2775 maxconn 0',
    ].join('\n');
    const { snapshot, warnings } = parseHaproxyConfig(text);
    const backend = snapshot.backends[0];
    expect(backend.check).toEqual({ type: 'tcp', inter: 3000, fall: 5, rise: 4 });
    expect(backend.sendProxy).toBe('none');
    expect(backend.servers).toEqual([
      { name: 'a', address: '10.0.0.1', port: 2775, weight: 10, maxconn: 200, backup: false, check: true },
      {
        name: 'b',
        address: 'gw2.example.net',
        port: 2775,
        weight: 20,
        maxconn: 200,
        backup: true,
        check: true,
      },
      { name: 'c', address: '10.0.0.3', port: 2775, weight: 10, backup: false, check: false },
    ]);
    warningAt(warnings, 4, /send-proxy differs from server "a"/);
    warningAt(warnings, 4, /on-marked-down differs/);
  });

  it('keeps per-backend send-proxy and on-marked-down when the servers agree', () => {
    const { snapshot } = parseHaproxyConfig(
      'backend b\n server a 10.0.0.1:1 send-proxy on-marked-down shutdown-sessions\n server c 10.0.0.2:1 send-proxy on-marked-down shutdown-sessions\n',
    );
    expect(snapshot.backends[0]).toMatchObject({ sendProxy: 'v1', onMarkedDown: 'shutdown-sessions' });
  });

  it('warns about what a server line says that Tether cannot do, naming it', () => {
    const { snapshot, warnings, disabled } = parseHaproxyConfig(
      file(
        '  server s2 10.0.0.2:25 check port 8008 inter 3s fastinter 1s downinter 10s disabled on-marked-up shutdown-backup-sessions ssl verify none',
      ),
    );
    expect(warnings.some((w) => /port 8008|inter.* not built/.test(w.message))).toBe(false);
    warningAt(warnings, 9, /`fastinter 1000` differs from server "s1"/);
    // `disabled` is understood: the server goes into maint with the import (an admin state, not config).
    expect(warnings.filter((w) => w.message.includes('disabled'))).toEqual([]);
    expect(disabled).toEqual([{ backend: 'be', server: 's2', line: 9 }]);
    warningAt(warnings, 9, /on-marked-up shutdown-backup-sessions/);
    warningAt(warnings, 9, /`ssl` is not imported/);
    warningAt(warnings, 9, /`verify none`/);
    warningAt(warnings, 9, /`inter 3000` differs from server "s1" \(line 7\)/);
    expect(snapshot.backends[0].servers.map((s) => s.name)).toEqual(['s1', 's2']);
    expect(snapshot.backends[0].servers[1].checkPort).toBe(8008);
  });

  it('reads port, fastinter and downinter of the first checked server (default-server too) into the check', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      'backend b\n  default-server inter 3s fastinter 500ms downinter 10s port 9000\n  server a 10.0.0.1:25 check\n  server c 10.0.0.2:25 check port 9001\n',
    );
    expect(checkWarnings(warnings)).toEqual([]);
    expect(snapshot.backends[0].check).toEqual({
      type: 'tcp',
      inter: 3000,
      fall: 3,
      rise: 2,
      fastinter: 500,
      downinter: 10000,
    });
    expect(snapshot.backends[0].servers.map((s) => s.checkPort)).toEqual([9000, 9001]);
  });

  it('leaves out servers without a port, on a UNIX socket or with an impossible host, with a warning', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      file('  server s2 10.0.0.2\n  server s3 /run/x.sock\n  server s4 redis_primary:6379'),
    );
    expect(snapshot.backends[0].servers.map((s) => s.name)).toEqual(['s1']);
    warningAt(warnings, 9, /needs a fixed port/);
    warningAt(warnings, 10, /UNIX/);
    warningAt(warnings, 11, /not an IP address or a host name/);
  });

  it('reads a tcp-check sequence into check.steps, HAProxy escapes understood, silently', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      file(
        '  option tcp-check\n  tcp-check connect port 6380\n  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n' +
          '  tcp-check send-binary 0A\n  tcp-check expect binary 2b4f4b\n  tcp-check send "info\\ replication\\r\\n"\n' +
          '  tcp-check expect string role:master\\x21',
      ),
    );
    expect(checkWarnings(warnings)).toEqual([]);
    expect(snapshot.backends[0].check.steps).toEqual([
      { send: 'PING\r\n' },
      { expect: { string: '+PONG' } },
      { sendBinary: '0a' },
      { expect: { binary: '2b4f4b' } },
      { send: 'info replication\r\n' },
      { expect: { string: 'role:master!' } },
    ]);
    // `tcp-check connect port N` is where every server's checks go.
    expect(snapshot.backends[0].servers[0].checkPort).toBe(6380);
    expect(checkSnapshot(snapshot, { stored: snapshot })).toEqual([]);
  });

  it('runs option redis-check as HAProxy does (PING, +PONG expected)', () => {
    const { snapshot, warnings } = parseHaproxyConfig(file('  option redis-check'));
    expect(checkWarnings(warnings)).toEqual([]);
    expect(snapshot.backends[0].check.steps).toEqual([
      { send: '*1\r\n$4\r\nPING\r\n' },
      { expect: { string: '+PONG\r\n' } },
    ]);
  });

  it('imports no steps, saying why, when a rule cannot run; a later protocol option replaces tcp-check', () => {
    for (const [rule, why] of [
      ['tcp-check expect rstring ^\\+PONG', /regular expression/],
      ['tcp-check expect ! string -ERR', /negated/],
      ['tcp-check send-lf %[date]', /send-lf/],
      ['tcp-check expect string +PONG min-recv 3', /only `expect string/],
      ['tcp-check connect port 6380', /after other rules/],
      ['tcp-check send-binary 0g', /hex digits/],
    ] as const) {
      const { snapshot, warnings } = parseHaproxyConfig(
        file(`  option tcp-check\n  tcp-check send PING\\r\\n\n  ${rule}`),
      );
      warningAt(warnings, 11, why);
      warningAt(warnings, 11, /the backend's check only opens a connection/);
      expect(snapshot.backends[0].check.steps).toBeUndefined();
    }
    const { snapshot, warnings } = parseHaproxyConfig(
      file('  option tcp-check\n  tcp-check send PING\\r\\n\n  option mysql-check user haproxy'),
    );
    warningAt(warnings, 11, /`option mysql-check` runs as a TCP check/);
    warningAt(warnings, 10, /without `option tcp-check` are not run/);
    expect(snapshot.backends[0].check.steps).toBeUndefined();
    const bare = parseHaproxyConfig(file('  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG'));
    for (const line of [9, 10]) warningAt(bare.warnings, line, /without `option tcp-check` are not run/);
    expect(bare.snapshot.backends[0].check.steps).toBeUndefined();
    const ssl = parseHaproxyConfig(file('  option tcp-check\n  tcp-check connect port 6380 ssl'));
    warningAt(ssl.warnings, 10, /connect` option `ssl` is not built/);
    const many = parseHaproxyConfig(file(`  option tcp-check\n${'  tcp-check send a\n'.repeat(17)}`));
    expect(many.snapshot.backends[0].check.steps).toBeUndefined();
    warningAt(many.warnings, 26, /more than 16/);
  });

  it('reads retries and option redispatch; Tether defaults (retries 1, redispatch) are left absent', () => {
    const read = (body: string, defaults = '') =>
      parseHaproxyConfig(file(body, '', defaults ? `defaults\n${defaults}` : '')).snapshot.backends[0];
    expect(read('  option redispatch\n  retries 3')).toMatchObject({ retries: 3 });
    expect(read('  option redispatch\n  retries 3')).not.toHaveProperty('redispatch');
    expect(read('  retries 1\n  option redispatch')).not.toHaveProperty('retries');
    // HAProxy's own values where a section says something: 3 retries, no redispatch.
    expect(read('  retries 5')).toMatchObject({ retries: 5, redispatch: false });
    expect(read('  option redispatch')).toMatchObject({ retries: 3 });
    expect(read('  no option redispatch\n  retries 0')).toMatchObject({ retries: 0, redispatch: false });
    // Inherited from `defaults`, overridden by the section.
    expect(read('  no option redispatch', '  retries 2\n  option redispatch\n')).toMatchObject({
      retries: 2,
      redispatch: false,
    });
    const { warnings, snapshot } = parseHaproxyConfig(file('  retries 300\n  option redispatch 2'));
    warningAt(warnings, 9, /`retries` must be a number from 0 to 100/);
    warningAt(warnings, 10, /`option redispatch 2` is imported as `option redispatch`/);
    expect(snapshot.backends[0]).toMatchObject({ retries: 3 });
    const none = parseHaproxyConfig(file(''));
    warningAt(none.warnings, 6, /backend "be" has no `retries` or `option redispatch`/);
    expect(none.snapshot.backends[0]).not.toHaveProperty('retries');
    const inFrontend = parseHaproxyConfig(file('', '  retries 3'));
    warningAt(inFrontend.warnings, 5, /`retries` does nothing in a frontend/);
  });

  it('gives each section the timeouts HAProxy would, several defaults each applying to the sections after it', () => {
    const text = [
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend a',
      '  bind :7001',
      '  default_backend x',
      'frontend b',
      '  bind :7002',
      '  timeout client 30s',
      '  default_backend y',
      'backend x',
      '  server s 10.0.0.1:1',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 1h',
      '  timeout server 10m',
      '  timeout tunnel 2h',
      'backend y',
      '  server s 10.0.0.1:2',
      'listen c',
      '  bind :7003',
      '  timeout connect 5s',
      '  server s 10.0.0.1:3',
    ].join('\n');
    const { snapshot } = parseHaproxyConfig(text);
    // What most sections use: connect 5s (x, c; y 2s), client 1h (a, c; b 30s), server 10m (y, c; x 1h);
    // x has no tunnel, so none in defaults.
    expect(snapshot.defaults.timeouts).toEqual({
      connect: 5000,
      client: 3_600_000,
      server: 600_000,
      check: 5000,
    });
    const fe = Object.fromEntries(snapshot.frontends.map((f) => [f.name, f.timeouts]));
    expect(fe).toEqual({ a: undefined, b: { client: 30_000 }, c: undefined });
    const be = Object.fromEntries(snapshot.backends.map((b) => [b.name, b.timeouts]));
    expect(be).toEqual({
      x: { server: 3_600_000 },
      y: { connect: 2000, tunnel: 7_200_000 },
      c: { tunnel: 7_200_000 },
    });
  });

  it('imports a file whose sections agree with no section timeouts at all', () => {
    const { snapshot } = parseHaproxyConfig(SEED);
    expect(snapshot.frontends.every((f) => f.timeouts === undefined)).toBe(true);
    expect(snapshot.backends.every((b) => b.timeouts === undefined)).toBe(true);
  });

  it('reads maxconn in global, defaults and frontends', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      file('  maxconn 10', '  maxconn 70', 'global\n  maxconn 900\ndefaults\n  maxconn 80\n'),
    );
    expect(snapshot.defaults.maxconn).toBe(900);
    expect(snapshot.frontends[0].maxconn).toBe(70);
    expect(warnings.some((w) => /maxconn` in a backend/.test(w.message))).toBe(true);
  });

  it('turns `acl NAME src …` + `tcp-request connection reject if !NAME` into the allow-list', () => {
    const { snapshot } = parseHaproxyConfig(
      file(
        '',
        '  acl office src 10.0.0.0/8 192.168.1.7\n  acl office src 2001:db8::/32\n  tcp-request connection reject if !office',
      ),
    );
    expect(snapshot.frontends[0].allow).toEqual(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    const unless = parseHaproxyConfig(
      file('', '  acl ok src 10.0.0.0/8\n  tcp-request connection reject unless ok'),
    );
    expect(unless.snapshot.frontends[0].allow).toEqual(['10.0.0.0/8']);
    const other = parseHaproxyConfig(
      file('', '  acl ok src 10.0.0.0/8\n  tcp-request content reject if !ok'),
    );
    expect(other.snapshot.frontends[0].allow).toBeUndefined();
    warningAt(other.warnings, 6, /only `tcp-request connection reject if !ACL`/);
  });

  it('uses an unconditional use_backend and warns about conditional ones', () => {
    const text =
      'frontend f\n bind :1\n use_backend b if { src 10.0.0.1 }\n use_backend c\n default_backend b\nbackend b\n server s 10.0.0.1:1\nbackend c\n server s 10.0.0.1:1\n';
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(snapshot.frontends[0].backend).toBe('c');
    warningAt(warnings, 3, /with a condition/);
  });

  it('imports a disabled frontend as not enabled', () => {
    expect(parseHaproxyConfig(file('', '  disabled')).snapshot.frontends[0].enabled).toBe(false);
  });

  it('maps names the schema refuses, deterministically, with a warning; strict refuses', () => {
    const text =
      'frontend "my front"\n bind :1\n default_backend b:1\nbackend b:1\n server "s/1" 10.0.0.1:1\n server s_1 10.0.0.2:1\n';
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(snapshot.frontends[0]).toMatchObject({ name: 'my_front', backend: 'b_1' });
    expect(snapshot.backends[0].servers.map((s) => s.name)).toEqual(['s_1', 's_1_2']);
    warningAt(warnings, 1, /"my front" is imported as "my_front"/);
    warningAt(warnings, 6, /"s_1" is imported as "s_1_2"/);
    expect(parseHaproxyConfig(text).snapshot).toEqual(snapshot);
    expect(refusal(text, true).problems.map((p) => p.line)).toEqual([4, 5, 6, 1]);
  });

  it('warns about anything it does not know, with the line and its text', () => {
    const { warnings } = parseHaproxyConfig(
      file('  stick-table type ip size 1m', '', 'userlist admins\n  user a password x\n'),
    );
    warningAt(warnings, 1, /`userlist` section is not imported/);
    const stick = warningAt(warnings, 11, /`stick-table` is not understood/);
    expect(stick.text).toBe('stick-table type ip size 1m');
  });
});

describe('parseHaproxyConfig: the global log target', () => {
  const withGlobal = (...lines: string[]) =>
    `global\n${lines.map((l) => `  ${l}`).join('\n')}\ndefaults\n  mode tcp\n  log global\n${file('')}`;

  it('reads every UDP/IP form of `log` into defaults.log, port 514 when none is given', () => {
    const forms: Array<[string, string, number]> = [
      ['127.0.0.1', '127.0.0.1', 514],
      ['10.1.2.3:5140', '10.1.2.3', 5140],
      ['udp@10.1.2.3:5141', '10.1.2.3', 5141],
      ['ipv4@10.1.2.3', '10.1.2.3', 514],
      ['[::1]:5142', '::1', 5142],
      ['ipv6@::1:5143', '::1', 5143],
      ['::1', '::1', 514],
    ];
    for (const [text, address, port] of forms) {
      const { snapshot, warnings } = parseHaproxyConfig(withGlobal(`log ${text} local3`));
      expect(snapshot.defaults.log, text).toEqual({ address, port, facility: 'local3' });
      expect(
        warnings.filter((w) => w.line === 2),
        text,
      ).toEqual([]);
      expect(checkSnapshot(snapshot)).toEqual([]);
    }
  });

  it('keeps the first target, warns about a second one, levels, formats and what it cannot send to', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      withGlobal(
        'log /dev/log local0',
        'log 10.0.0.9 len 1024 format rfc5424 local4 notice',
        'log 10.0.0.8 local5',
        'log stdout format raw daemon',
        'log 127.0.0.1',
      ),
    );
    expect(snapshot.defaults.log).toEqual({ address: '10.0.0.9', port: 514, facility: 'local4' });
    warningAt(warnings, 2, /log target "\/dev\/log" is not imported.*defaults\.log/);
    warningAt(warnings, 3, /format "rfc5424" is not imported/);
    warningAt(warnings, 3, /log option `len 1024` is not imported/);
    warningAt(warnings, 3, /levels "notice" are not imported/);
    warningAt(warnings, 4, /one syslog target: the first `log` line \(line 3\) is imported/);
    warningAt(warnings, 5, /log target "stdout" is not imported/);
    warningAt(warnings, 6, /names no syslog facility/);
  });

  it('warns about a frontend without `log global` and about a section of its own target', () => {
    const { snapshot, warnings } = parseHaproxyConfig(
      'global\n  log 10.0.0.1 local0\nfrontend fe\n  mode tcp\n  bind :7000\n  log 10.9.9.9 local1\n  default_backend be\nbackend be\n  mode tcp\n  server s1 10.0.0.1:25\n',
    );
    expect(snapshot.defaults.log).toEqual({ address: '10.0.0.1', port: 514, facility: 'local0' });
    warningAt(warnings, 3, /frontend "fe" has no `log global`: HAProxy would not log its sessions/);
    warningAt(warnings, 6, /own `log` target is not imported/);
  });

  it('has no target without a global `log` line, and `no log` undoes an inherited `log global`', () => {
    expect(parseHaproxyConfig(file('')).snapshot.defaults.log).toBeUndefined();
    const { warnings } = parseHaproxyConfig(
      'global\n  log 10.0.0.1 local0\ndefaults\n  mode tcp\n  log global\nfrontend fe\n  bind :7000\n  no log\n  default_backend be\nbackend be\n  server s1 10.0.0.1:25\n',
    );
    warningAt(warnings, 6, /frontend "fe" has no `log global`/);
  });
});

describe('parseHaproxyConfig: the way files are written', () => {
  it('reads tabs, no indentation, trailing spaces, comments after section keywords and no final newline', () => {
    const text =
      'global # the process\nmaxconn 800   \ndefaults\t# all\n\tmode\ttcp\t\n\ttimeout connect 4s # short\nlisten\tgw\t# smpp\nbind 127.0.0.1:2775   \nserver a 10.0.0.1:2775 check';
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(warnings).toEqual([
      expect.objectContaining({
        line: 6,
        message: expect.stringMatching(/no `retries` or `option redispatch`/),
      }),
      expect.objectContaining({ line: 0, message: expect.stringMatching(/no `timeout client`/) }),
      expect.objectContaining({ line: 0, message: expect.stringMatching(/no `timeout server`/) }),
    ]);
    expect(snapshot.defaults).toMatchObject({ maxconn: 800, timeouts: { connect: 4000 } });
    expect(snapshot.frontends[0]).toMatchObject({ name: 'gw', bind: { address: '127.0.0.1', port: 2775 } });
    expect(snapshot.backends[0].servers[0]).toMatchObject({ name: 'a', check: true });
  });

  it('joins continued lines and reports them at their first line', () => {
    const text =
      'backend b\n  server a 10.0.0.1:25 \\\n     check \\\n     weight 7\n  server z 10.0.0.2:25 \\\n     frobnicate\n';
    const { snapshot, warnings } = parseHaproxyConfig(text);
    expect(snapshot.backends[0].servers[0]).toMatchObject({ check: true, weight: 7 });
    warningAt(warnings, 5, /`frobnicate` is not imported/);
  });

  it('reads CRLF line ends and quoted words', () => {
    const { snapshot } = parseHaproxyConfig('backend "b"\r\n  server \'a\' 10.0.0.1:25 check\r\n');
    expect(snapshot.backends[0].servers[0].name).toBe('a');
  });

  it('warns about ${VAR} references', () => {
    const { warnings } = parseHaproxyConfig(file('  server s2 ${GW_HOST}:25'));
    warningAt(warnings, 9, /\$\{GW_HOST\} is an environment variable/);
    warningAt(warnings, 9, /server "s2" is left out/);
  });

  it('refuses a file with nothing to import', () => {
    expect(refusal('').problems[0].message).toMatch(/no TCP frontend, backend or listen/);
    expect(refusal('global\n  maxconn 5\n').warnings).toEqual([]);
  });

  it('splits host and port as HAProxy does', () => {
    expect(splitHostPort('gw.example.net:2775')).toEqual({ host: 'gw.example.net', port: '2775' });
    expect(splitHostPort('unix@/run/x')).toHaveProperty('unsupported');
    expect(splitHostPort('ipv6@::1')).toEqual({ host: '::1' });
  });
});

describe('parseHaproxyConfig: big files', () => {
  // The route takes up to 1 MB: every part of the parser must be linear in it. A quadratic step turns
  // one of these into minutes (past the test's timeout); linear, each takes well under a second.
  const MB = 1024 * 1024;
  const repeat = (line: string) => line.repeat(Math.floor(MB / line.length));
  const cases: Array<[string, string]> = [
    ['one line of spaces', `${' '.repeat(MB)}x`],
    ['a megabyte of continued lines', repeat('a \\\n')],
    ['100,000 backends of one name', repeat('backend a\n')],
    ['one backend of 50,000 servers of one name', `backend b\n${repeat('server s 10.0.0.1:1\n')}`],
    ['50,000 lines of one acl', `frontend f\n bind :1\n${repeat('acl a src 10.0.0.1\n')}`],
    ['100,000 unknown lines', `backend b\n${repeat('frob\n')}`],
    ['one word of a megabyte with ${', `backend \${${'x'.repeat(MB)}`],
  ];
  for (const [what, text] of cases) {
    it(`reads ${what} in linear time`, { timeout: 30_000 }, () => {
      try {
        const { warnings } = parseHaproxyConfig(text);
        expect(warnings.length).toBeLessThanOrEqual(1001);
      } catch (error) {
        expect(error).toBeInstanceOf(HaproxyImportError);
      }
    });
  }
});

describe('parseHaproxyConfig: any text', () => {
  const words = fc.constantFrom(
    'global',
    'defaults',
    'frontend',
    'backend',
    'listen',
    'bind',
    'server',
    'default-server',
    'mode',
    'tcp',
    'http',
    'balance',
    'timeout',
    'check',
    'inter',
    'acl',
    'src',
    'tcp-request',
    'connection',
    'reject',
    'if',
    '!a',
    'default_backend',
    'use_backend',
    'option',
    'tcp-check',
    '#',
    '\\',
    '"',
    "'",
    '${X}',
    ':80',
    '*:1',
    '10.0.0.1:1',
    '[::]:2',
    'maxconn',
    '5s',
    '0',
    '-1',
    'weight',
    'port',
    'a',
    'b',
    '\t',
    ' ',
    '\n',
  );
  it('never throws anything but HaproxyImportError, and what it returns passes the schema check', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.array(words, { maxLength: 120 }).map((w) => w.join(' ')),
        ),
        (text) => {
          try {
            const { snapshot, warnings } = parseHaproxyConfig(text);
            expect(Array.isArray(warnings)).toBe(true);
            // Binds may clash (two frontends on one port): the pipeline answers that one with 409.
            expect(
              checkSnapshot(snapshot).filter((i) => i.kind !== 'conflict' && i.kind !== 'unknown-reference'),
            ).toEqual([]);
          } catch (error) {
            if (!(error instanceof HaproxyImportError)) throw error;
            expect(error.problems.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('host name resolution lines (Tether exports them: resolvers section, server words)', () => {
  const messages = (text: string) =>
    parseHaproxyConfig(text)
      .warnings.filter((w) => /resolv|init-addr|nameserver|hold/.test(w.message))
      .map((w) => `${w.line}: ${w.message}`);

  it('reads what Tether does without a warning: system resolver, every 30 s, IPv4 first, down until resolved', () => {
    const extra = 'resolvers dns\n  parse-resolv-conf\n  timeout resolve 30s\n  hold valid 30000\n';
    const body = '  server s2 localhost:26 resolvers dns resolve-prefer ipv4 init-addr last,libc,none';
    expect(messages(file(body, '', extra))).toEqual([]);
    expect(messages(file('  server s2 [fe80::1%lo]:26 init-addr none'))).toEqual([]);
  });

  it('warns each line that differs, where it is written', () => {
    const extra = 'resolvers dns\n  nameserver ns1 10.0.0.53:53\n  hold valid 10s\n  parse-resolv-conf\n';
    const body = '  server s2 localhost:26 resolvers dns resolve-prefer ipv6 init-addr 10.0.0.9';
    expect(messages(file(body, '', extra))).toEqual([
      '2: `nameserver ns1 10.0.0.53:53` in a `resolvers` section is not imported: Tether resolves host names with the system resolver every 30 s',
      '3: `hold valid 10s` in a `resolvers` section is not imported: Tether resolves host names with the system resolver every 30 s',
      "13: `resolve-prefer ipv6` is not imported: Tether uses a name's first IPv4 address, else its first",
      '13: server parameter `init-addr 10.0.0.9` is not imported',
    ]);
  });
});

describe('disabled servers', () => {
  it('lists servers written `disabled`, also from default-server, and `enabled` undoes it', () => {
    const text = file('  default-server disabled\n  server s2 10.0.0.2:25\n  server s3 10.0.0.3:25 enabled');
    const { disabled, snapshot } = parseHaproxyConfig(text);
    expect(disabled).toEqual([{ backend: 'be', server: 's2', line: 10 }]);
    expect(snapshot.backends[0].servers.map((s) => s.name)).toEqual(['s1', 's2', 's3']);
    expect(snapshot.backends[0].servers.every((s) => !('disabled' in s))).toBe(true);
  });
});
