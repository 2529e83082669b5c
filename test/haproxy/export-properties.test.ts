// Property: every config the control plane accepts exports to a file Debian's HAProxy 2.6 accepts. Generated
// whole documents (names, every address form, allow-lists, every enum, ranges to their ends), kept only when the
// control plane's own check finds nothing wrong, then `haproxy -c`. Bounded in count and time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportHaproxy } from '../../src/haproxy/export.js';
import { checkSnapshot } from '../../src/schema/check.js';
import {
  BALANCE_ALGORITHMS,
  HASH_TYPES,
  MAX_TIMER_MS,
  NAME_PATTERN,
  ON_MARKED_DOWN,
  SEND_PROXY,
  SYSLOG_FACILITIES,
} from '../../src/schema/fields.js';
import { emptySnapshot, type Backend, type Frontend, type Snapshot } from '../../src/schema/snapshot.js';
import { haproxyCheck } from './haproxy-check.js';
import { haproxyMissing } from '../stats/haproxy.js';

const RUNS = 40;
const TIME_LIMIT_MS = 40_000;

const missing = haproxyMissing();
if (missing) console.warn(`skipping the export property test: ${missing}`);

const name = () =>
  fc.oneof(
    fc.constantFrom('.x', '-', '_', 'GLOBAL', 'defaults', 'listen', 'x'.repeat(64)),
    fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((n) => NAME_PATTERN.test(n)),
  );
const bindAddress = () =>
  fc.oneof(
    fc.constantFrom('0.0.0.0', '::', '::1', '127.0.0.1', '::ffff:127.0.0.2'),
    fc.ipV4().filter((ip) => Number(ip.split('.')[0]) < 224),
    fc.ipV6().filter((ip) => !/^ff/i.test(ip)),
  );
const cidr = () =>
  fc.oneof(
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
    fc.ipV4(),
    fc.constantFrom('::ffff:10.0.0.0/104', '::1'),
  );
const host = () =>
  fc.oneof(
    fc.constantFrom('localhost', 'fe80::1%lo', '::1'),
    fc.ipV4(),
    fc.ipV6(),
    fc.domain().filter((d) => !/\.\d+$/.test(d)),
  );
const count = (max: number) => fc.integer({ min: 1, max });
const timeout = () => fc.oneof(count(MAX_TIMER_MS), fc.constantFrom(1, MAX_TIMER_MS));

const server = (n: string) =>
  fc.record({
    name: fc.constant(n),
    address: host(),
    port: count(65535),
    weight: fc.integer({ min: 0, max: 256 }),
    maxconn: fc.option(count(1_000_000), { nil: undefined }),
    backup: fc.boolean(),
    check: fc.boolean(),
    checkPort: fc.option(count(65535), { nil: undefined }),
  });

const backend = (n: string): fc.Arbitrary<Backend> =>
  fc.record({
    name: fc.constant(n),
    balance: fc.constantFrom(...BALANCE_ALGORITHMS),
    hashType: fc.constantFrom(...HASH_TYPES),
    check: fc.record({
      type: fc.constantFrom('tcp' as const, 'none' as const),
      inter: fc.integer({ min: 10, max: 86_400_000 }),
      fall: count(1000),
      rise: count(1000),
      timeout: fc.option(count(86_400_000), { nil: undefined }),
      fastinter: fc.option(fc.integer({ min: 10, max: 86_400_000 }), { nil: undefined }),
      downinter: fc.option(fc.integer({ min: 10, max: 86_400_000 }), { nil: undefined }),
    }),
    sendProxy: fc.constantFrom(...SEND_PROXY),
    onMarkedDown: fc.constantFrom(...ON_MARKED_DOWN),
    retries: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    redispatch: fc.option(fc.boolean(), { nil: undefined }),
    timeouts: fc.option(
      fc.record({ connect: timeout(), server: timeout(), tunnel: timeout() }, { requiredKeys: [] }),
      { nil: undefined },
    ),
    servers: fc
      .uniqueArray(name(), { maxLength: 4 })
      .chain((names) => (names.length ? fc.tuple(...names.map(server)) : fc.constant([]))),
  });

const config: fc.Arbitrary<Snapshot> = fc
  .uniqueArray(name(), { minLength: 1, maxLength: 4 })
  .chain((backendNames) =>
    fc.record({
      defaults: fc.record({
        maxconn: count(1_000_000),
        timeouts: fc.record(
          { connect: timeout(), client: timeout(), server: timeout(), check: timeout(), tunnel: timeout() },
          { requiredKeys: ['connect', 'client', 'server', 'check'] },
        ),
        log: fc.option(
          fc.record({
            address: fc.oneof(
              fc.ipV4().filter((ip) => ip !== '0.0.0.0'),
              fc.ipV6().filter((ip) => ip !== '::'),
            ),
            port: count(65535),
            facility: fc.constantFrom(...SYSLOG_FACILITIES),
          }),
          { nil: undefined },
        ),
      }),
      backends: fc.tuple(...backendNames.map(backend)),
      frontends: fc.uniqueArray(name(), { maxLength: 4 }).chain((names) =>
        names.length === 0
          ? fc.constant([] as Frontend[])
          : fc.tuple(
              ...names.map((n, i) =>
                fc
                  .record(
                    {
                      name: fc.constant(n),
                      // Ports of their own per frontend and bind: binds never clash.
                      binds: fc
                        .array(bindAddress(), { minLength: 1, maxLength: 3 })
                        .map((addresses) =>
                          addresses.map((address, j) => ({ address, port: 20_000 + i * 10 + j })),
                        ),
                      backend: fc.constantFrom(...backendNames),
                      maxconn: count(1_000_000),
                      allow: fc.array(cidr(), { minLength: 1, maxLength: 100, size: 'max' }),
                      timeouts: fc.record({ client: timeout() }),
                      enabled: fc.boolean(),
                    },
                    { requiredKeys: ['name', 'binds', 'backend', 'enabled'] },
                  )
                  .map((f): Frontend => ({ ...f, bind: f.binds[0] })),
              ),
            ),
      ),
    }),
  );

describe.skipIf(missing !== undefined)('export of generated configs', () => {
  it('gives haproxy -c a valid file for every config the control plane accepts', () => {
    let checked = 0;
    fc.assert(
      fc.property(config, (snapshot) => {
        const issues = checkSnapshot(snapshot, { stored: emptySnapshot() });
        fc.pre(issues.length === 0);
        const text = exportHaproxy(snapshot, { revision: 1, exportedAt: new Date() });
        const check = haproxyCheck(text);
        // The one warning allowed: a generated host name that does not resolve (its server starts down).
        const warnings = check.output.split('\n').filter((l) => /WARNING|ALERT/.test(l));
        const unexpected = warnings.filter(
          (l) => !/could not resolve address '.*', disabling server/.test(l),
        );
        expect(check.status, `${check.output}\n${text}`).toBe(0);
        expect(unexpected, text).toEqual([]);
        checked++;
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    // Most generated configs are valid: the property really ran.
    expect(checked).toBeGreaterThan(RUNS / 4);
  }, 90_000);
});
