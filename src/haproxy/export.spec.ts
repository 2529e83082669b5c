import { describe, expect, it } from 'vitest';
import { LIMITS, NAME_SYNTAX } from '../schema/fields.js';
import { DEFAULT_CHECK, DEFAULT_DEFAULTS, type Backend, type Snapshot } from '../schema/snapshot.js';
import { exportHaproxy, haproxyName } from './export.js';

const at = {
  revision: 3,
  createdAt: new Date('2026-01-02T03:04:05Z'),
  exportedAt: new Date('2026-02-03T04:05:06Z'),
};

function backend(overrides: Partial<Backend> = {}): Backend {
  return {
    name: 'b',
    balance: 'roundrobin',
    hashType: 'consistent',
    check: { ...DEFAULT_CHECK },
    sendProxy: 'none',
    onMarkedDown: 'keep',
    servers: [{ name: 's', address: '10.0.0.1', port: 7890, weight: 1, backup: false, check: true }],
    ...overrides,
  };
}

function config(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    defaults: structuredClone(DEFAULT_DEFAULTS),
    frontends: [
      {
        name: 'f',
        bind: { address: '0.0.0.0', port: 9999 },
        binds: [{ address: '0.0.0.0', port: 9999 }],
        backend: 'b',
        enabled: true,
      },
    ],
    backends: [backend()],
    ...overrides,
  };
}

const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe('exportHaproxy', () => {
  it('heads the file with the revision and its times, and is the same for the same input', () => {
    const text = exportHaproxy(config(), at);
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# haproxy.cfg exported by Tether from revision 3 (stored 2026-01-02T03:04:05.000Z)',
      '# at 2026-02-03T04:05:06.000Z. Checked against HAProxy 2.6 (haproxy -c -f).',
    ]);
    expect(text).toContain(
      'admin states (ready/drain/maint) are runtime state, not config: they are not exported',
    );
    expect(exportHaproxy(config(), at)).toBe(text);
    expect(exportHaproxy(config(), { revision: 0, exportedAt: at.exportedAt })).toMatch(
      /^# haproxy.cfg exported by Tether from revision 0\n/,
    );
  });

  it('writes the syslog target in global and `log global` with tcplog lines in defaults, only when there is one', () => {
    const defaults = {
      ...DEFAULT_DEFAULTS,
      log: { address: '10.1.2.3', port: 5140, facility: 'local2' as const },
    };
    const text = lines(exportHaproxy(config({ defaults }), at));
    expect(text.slice(text.indexOf('global'), text.indexOf('global') + 3)).toEqual([
      'global',
      'maxconn 50000',
      'log 10.1.2.3:5140 local2',
    ]);
    expect(text.slice(text.indexOf('defaults'))).toEqual(
      expect.arrayContaining(['log global', 'option tcplog']),
    );
    const six = exportHaproxy(
      config({ defaults: { ...defaults, log: { ...defaults.log, address: '::1' } } }),
      at,
    );
    expect(lines(six)).toContain('log [::1]:5140 local2');
    expect(
      lines(exportHaproxy(config(), at)).filter((l) => l.startsWith('log') || l.includes('tcplog')),
    ).toEqual([]);
  });

  it('writes the seed file of the issue back as the user wrote it', () => {
    const servers = [9315, 9316, 9317].map((port, i) => ({
      name: `server${i + 1}`,
      address: '127.0.0.1',
      port,
      weight: 1,
      backup: false,
      check: true,
    }));
    const text = exportHaproxy(
      config({
        frontends: [
          {
            name: 'persistent_connection_frontend',
            bind: { address: '0.0.0.0', port: 9999 },
            binds: [{ address: '0.0.0.0', port: 9999 }],
            backend: 'persistent_connection_backend',
            enabled: true,
          },
        ],
        // As the seed imports: `timeout check 5000ms` of its defaults is the backend's check.timeout.
        backends: [
          backend({
            name: 'persistent_connection_backend',
            balance: 'source',
            servers,
            check: { ...DEFAULT_CHECK, timeout: 5000 },
          }),
        ],
      }),
      at,
    );
    expect(text.slice(text.indexOf('global'))).toBe(
      [
        'global',
        '    maxconn 50000',
        '',
        'defaults',
        '    mode tcp',
        '    maxconn 50000',
        '    timeout connect 5000ms',
        '    timeout client 3600000ms',
        '    timeout server 3600000ms',
        '    timeout check 5000ms',
        '    retries 1',
        '    option redispatch',
        '',
        'frontend persistent_connection_frontend',
        '    bind 0.0.0.0:9999',
        '    default_backend persistent_connection_backend',
        '',
        'backend persistent_connection_backend',
        '    balance source',
        '    hash-type consistent',
        '    option tcp-check',
        '    server server1 127.0.0.1:9315 weight 1 check inter 5000ms fall 3 rise 2',
        '    server server2 127.0.0.1:9316 weight 1 check inter 5000ms fall 3 rise 2',
        '    server server3 127.0.0.1:9317 weight 1 check inter 5000ms fall 3 rise 2',
        '',
      ].join('\n'),
    );
  });

  it('opens a stats socket only when no frontend listens, as HAProxy starts only with a listener', () => {
    const socket = 'stats socket /run/haproxy/admin.sock mode 660 level admin';
    expect(lines(exportHaproxy(config(), at))).not.toContain(socket);
    const off = { ...config().frontends[0], enabled: false };
    for (const frontends of [[], [off]]) {
      const text = exportHaproxy(config({ frontends }), at);
      expect(text).toContain(`global\n    maxconn 50000\n    # No frontend is enabled`);
      expect(lines(text)).toContain(socket);
    }
  });

  it('never writes a CMPP check secret or account, and says what the CMPP settings became', () => {
    const text = exportHaproxy(
      config({
        frontends: [{ ...config().frontends[0], inspect: 'cmpp' }],
        backends: [
          backend({
            balance: 'cmpp-account',
            check: {
              ...DEFAULT_CHECK,
              type: 'cmpp',
              cmpp: { sourceAddr: '901234', secret: 's3cr3t-Pw', version: '3.0' },
            },
          }),
        ],
      }),
      at,
    );
    expect(text).not.toContain('s3cr3t-Pw');
    expect(text).not.toContain('901234');
    expect(text).toContain('# inspect cmpp (reading CMPP frames) has no HAProxy equivalent: left out.');
    expect(text).toContain('# check cmpp (a CMPP 3.0 login) has no HAProxy equivalent: exported as a');
    expect(lines(text)).toContain('balance source');
    expect(lines(text)).toContain('option tcp-check');
  });

  it('checks only servers that ask for it, and nothing when the backend has no check', () => {
    const servers = [
      { name: 'on', address: '10.0.0.1', port: 1, weight: 1, backup: false, check: true },
      { name: 'off', address: '10.0.0.2', port: 1, weight: 1, backup: false, check: false },
    ];
    const tcp = lines(exportHaproxy(config({ backends: [backend({ servers })] }), at));
    expect(tcp).toContain('server on 10.0.0.1:1 weight 1 check inter 5000ms fall 3 rise 2');
    expect(tcp).toContain('server off 10.0.0.2:1 weight 1');
    const none = exportHaproxy(
      config({ backends: [backend({ servers, check: { ...DEFAULT_CHECK, type: 'none', timeout: 50 } })] }),
      at,
    );
    expect(none.slice(none.indexOf('backend b'))).not.toMatch(/ check|tcp-check/);
  });

  it('binds every address form as HAProxy writes it', () => {
    const bindOf = (address: string) =>
      lines(
        exportHaproxy(
          config({
            frontends: [
              { ...config().frontends[0], bind: { address, port: 5 }, binds: [{ address, port: 5 }] },
            ],
          }),
          at,
        ),
      ).find((l) => l.startsWith('bind '));
    expect(bindOf('0.0.0.0')).toBe('bind 0.0.0.0:5');
    expect(bindOf('::')).toBe('bind [::]:5 v4v6');
    expect(bindOf('0:0::1')).toBe('bind [::1]:5');
    expect(bindOf('::ffff:127.0.0.2')).toBe('bind 127.0.0.2:5');
  });

  it('writes IPv6 server addresses in brackets, and one with a zone (HAProxy reads none) without an address', () => {
    const serverLine = (address: string) =>
      lines(
        exportHaproxy(
          config({ backends: [backend({ servers: [{ ...backend().servers[0], address }] })] }),
          at,
        ),
      ).find((l) => l.startsWith('server '));
    expect(serverLine('::1')).toMatch(/^server s \[::1\]:7890 /);
    expect(serverLine('fe80::1%lo')).toMatch(/^server s \[fe80::1%lo\]:7890 init-addr none weight 1 /);
    expect(
      exportHaproxy(
        config({ backends: [backend({ servers: [{ ...backend().servers[0], address: 'fe80::1%lo' }] })] }),
        at,
      ),
    ).toContain(
      '    # HAProxy 2.6 reads no IPv6 zone (fe80::1%lo): this server starts without an address.\n    server s ',
    );
  });

  it('follows host names through a resolvers section, and adds none for IP addresses', () => {
    expect(exportHaproxy(config(), at)).not.toContain('resolvers');
    const text = exportHaproxy(
      config({ backends: [backend({ servers: [{ ...backend().servers[0], address: 'gw1.example.net' }] })] }),
      at,
    );
    expect(lines(text)).toContain('resolvers tether_dns');
    expect(lines(text)).toContain(
      'server s gw1.example.net:7890 resolvers tether_dns resolve-prefer ipv4 init-addr last,libc,none weight 1 check inter 5000ms fall 3 rise 2',
    );
  });

  it('splits the longest allow-list over acl lines HAProxy can read, all under one name', () => {
    const allow = Array.from({ length: LIMITS.allowEntries }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const text = exportHaproxy(config({ frontends: [{ ...config().frontends[0], allow }] }), at);
    const acls = lines(text).filter((l) => l.startsWith('acl '));
    expect(acls.length).toBe(Math.ceil(LIMITS.allowEntries / 32));
    for (const acl of acls) {
      expect(acl.startsWith('acl tether_allow src ')).toBe(true);
      expect(acl.split(' ').length).toBeLessThan(64);
    }
    expect(acls.flatMap((a) => a.split(' ').slice(3))).toEqual(allow);
    expect(lines(text).filter((l) => l.startsWith('tcp-request'))).toEqual([
      'tcp-request connection reject if !tether_allow',
    ]);
  });

  it('keeps every name Tether accepts, and makes any other a valid HAProxy name with a comment', () => {
    for (let code = 32; code < 127; code++) {
      const c = String.fromCharCode(code);
      if (NAME_SYNTAX.test(c)) expect(haproxyName(`a${c}`), JSON.stringify(c)).toBe(`a${c}`);
    }
    expect(haproxyName('.')).toBe('.');
    expect(haproxyName('a b/c')).toBe('a_b_c');
    const text = exportHaproxy(
      config({ backends: [backend({ name: 'b', servers: [{ ...backend().servers[0], name: 'x y' }] })] }),
      at,
    );
    expect(text).toContain('    # server "x y" is named x_y here.\n    server x_y ');
  });
});

describe('what the round trip needs', () => {
  it('writes timeout check once in defaults only when every backend has it, else each backend its own', () => {
    const shared = lines(
      exportHaproxy(config({ backends: [backend({ check: { ...DEFAULT_CHECK, timeout: 900 } })] }), at),
    );
    expect(shared.filter((l) => l.startsWith('timeout check'))).toEqual(['timeout check 900ms']);
    const mixed = exportHaproxy(
      config({
        backends: [backend({ name: 'a', check: { ...DEFAULT_CHECK, timeout: 900 } }), backend({ name: 'b' })],
      }),
      at,
    );
    const defaults = mixed.slice(mixed.indexOf('defaults'), mixed.indexOf('\nbackend a'));
    expect(defaults).not.toMatch(/^\s*timeout check/m);
    expect(defaults).toContain("# Tether's check timeout for backends without their own: 5000ms");
    expect(mixed.slice(mixed.indexOf('\nbackend a'), mixed.indexOf('\nbackend b'))).toContain(
      'timeout check 900ms',
    );
    expect(mixed.slice(mixed.indexOf('\nbackend b'))).not.toContain('timeout check');
  });

  it('writes a default-server line with the check settings no server line carries', () => {
    const check = { ...DEFAULT_CHECK, inter: 3000, fall: 4, rise: 5, fastinter: 700 };
    const empty = lines(
      exportHaproxy(config({ backends: [backend({ servers: [], check, sendProxy: 'v2' })] }), at),
    );
    expect(empty).toContain('default-server inter 3000ms fall 4 rise 5 fastinter 700ms send-proxy-v2');
    const servers = [{ name: 'off', address: '10.0.0.2', port: 1, weight: 1, backup: false, check: false }];
    const unchecked = lines(exportHaproxy(config({ backends: [backend({ servers, check })] }), at));
    expect(unchecked).toContain('default-server inter 3000ms fall 4 rise 5 fastinter 700ms');
    const checked = lines(
      exportHaproxy(
        config({ backends: [backend({ servers: [{ ...servers[0], check: true }], check })] }),
        at,
      ),
    );
    expect(checked.some((l) => l.startsWith('default-server'))).toBe(false);
  });
});
