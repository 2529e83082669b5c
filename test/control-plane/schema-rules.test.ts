// The one schema check: the control plane's and the runtime's answers agree, bind clashes follow
// Linux's rules in one pass, and a broken document costs at most LIMITS.issues issues.
import { describe, expect, it } from 'vitest';
import { checkCandidate } from '../../src/config/snapshot-checks.js';
import { RuntimeError } from '../../src/runtime/errors.js';
import { checkSnapshot as runtimeCheck } from '../../src/runtime/snapshot-check.js';
import { parseCidr } from '../../src/schema/addresses.js';
import { checkSnapshot, ruleProblem } from '../../src/schema/check.js';
import { LIMITS, RULES } from '../../src/schema/fields.js';
import { emptySnapshot, type Frontend, type Snapshot } from '../../src/schema/snapshot.js';

function snapshot(frontends: Array<Partial<Frontend>> = [], mutate?: (s: Snapshot) => void): Snapshot {
  const s = emptySnapshot();
  s.backends.push({
    name: 'be',
    balance: 'roundrobin',
    hashType: 'consistent',
    check: { type: 'tcp', inter: 5000, fall: 3, rise: 2 },
    sendProxy: 'none',
    onMarkedDown: 'keep',
    servers: [{ name: 's1', address: '127.0.0.1', port: 2000, weight: 1, backup: false, check: true }],
  });
  frontends.forEach((f, i) => {
    const bind = f.bind ?? f.binds?.[0] ?? { address: '127.0.0.1', port: 1000 + i };
    s.frontends.push({ name: `fe${i}`, backend: 'be', enabled: true, ...f, bind, binds: f.binds ?? [bind] });
  });
  mutate?.(s);
  return s;
}

/** The runtime's answer: the field it names, or undefined when it accepts. */
function runtimeField(s: Snapshot): string | undefined {
  try {
    runtimeCheck(s);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return (error as RuntimeError).subject.field;
  }
}

const controlPlaneField = (s: Snapshot) => checkCandidate(s, emptySnapshot())[0]?.field;

describe('control plane and runtime agree', () => {
  it.each<[string, Snapshot, string | undefined]>([
    ['a valid snapshot', snapshot([{}]), undefined],
    [
      'a server host name',
      snapshot([{}], (s) => (s.backends[0].servers[0].address = 'gw1.example.net')),
      undefined,
    ],
    [
      'defaults.maxconn over 1,000,000',
      snapshot([], (s) => (s.defaults.maxconn = 2_000_000)),
      'defaults.maxconn',
    ],
    [
      'check.inter over a day',
      snapshot([], (s) => (s.backends[0].check.inter = 100_000_000)),
      'backends[0].check.inter',
    ],
    [
      'server maxconn over 1,000,000',
      snapshot([], (s) => (s.backends[0].servers[0].maxconn = 5_000_000)),
      'backends[0].servers[0].maxconn',
    ],
    [
      '127.0.0.1 and ::ffff:127.0.0.1 on one port',
      snapshot([
        { bind: { address: '127.0.0.1', port: 80 } },
        { bind: { address: '::ffff:127.0.0.1', port: 80 } },
      ]),
      'frontends[1].bind',
    ],
    [
      'an IPv4 prefix on an IPv4-mapped block',
      snapshot([{ allow: ['::ffff:10.0.0.0/8'] }]),
      'frontends[0].allow[0]',
    ],
    ['an IPv4-mapped block with its IPv6 prefix', snapshot([{ allow: ['::ffff:10.0.0.0/104'] }]), undefined],
    [
      'a host name that reads as a number',
      snapshot([], (s) => (s.backends[0].servers[0].address = '0x7f000001')),
      'backends[0].servers[0].address',
    ],
  ])('%s', (_, s, field) => {
    expect(controlPlaneField(s)).toBe(field);
    expect(runtimeField(s)).toBe(field);
  });

  it('accepts in the runtime only what the control plane refuses as policy on new input', () => {
    // A config stored before these rules must still boot; the control plane refuses them on any change.
    for (const s of [
      snapshot([{ name: '..' }]),
      snapshot([{ allow: [] }]),
      snapshot([{ bind: { address: '224.0.0.1', port: 5000 } }]),
    ]) {
      expect(controlPlaneField(s)).toBeDefined();
      expect(runtimeField(s)).toBeUndefined();
    }
  });

  it('holds only the values a change sets to the policies, so a config stored under older rules takes other changes', () => {
    const stored = snapshot([{ name: '..', allow: [], inspect: 'cmpp' }, {}], (x) => {
      x.backends[0].check = {
        ...x.backends[0].check,
        type: 'cmpp',
        cmpp: { sourceAddr: '中文字', secret: 'x', version: '3.0' },
      };
    });
    const other = structuredClone(stored);
    other.frontends[0].maxconn = 10;
    other.frontends[1].maxconn = 10;
    other.backends[0].servers[0].weight = 7;
    expect(checkSnapshot(other, { stored })).toEqual([]);
    // Each of those values, set by a change, is refused.
    const set = snapshot([{}, {}]);
    expect(checkSnapshot(stored, { stored: set }).map((i) => i.field)).toEqual([
      'frontends[0].name',
      'frontends[0].allow',
      'backends[0].check.cmpp.sourceAddr',
    ]);
  });

  it('takes the allow-list entries the runtime can compile, and no other', () => {
    for (const entry of [
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '::ffff:172.16.0.0/108',
      '::ffff:10.0.0.0/8',
      '10.0.0.0/33',
      'x/8',
    ]) {
      expect(ruleProblem(RULES.frontend.allowEntry, entry) === undefined, entry).toBe(
        parseCidr(entry) !== undefined,
      );
    }
  });
});

describe('bind clashes', () => {
  const clash = (a: string, b: string, portB = 80) =>
    checkSnapshot(snapshot([{ bind: { address: a, port: 80 } }, { bind: { address: b, port: portB } }]), {
      stored: emptySnapshot(),
    }).some((i) => i.kind === 'conflict');

  it.each<[string, string, boolean]>([
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['0.0.0.0', '127.0.0.1', true],
    ['127.0.0.1', '0.0.0.0', true],
    ['::', '127.0.0.1', true],
    ['::1', '::', true],
    ['::', '0.0.0.0', true],
    ['0.0.0.0', '::1', false],
    ['::1', '127.0.0.1', false],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['::ffff:7f00:1', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '0.0.0.0', true],
  ])('%s and %s on one port: %s', (a, b, expected) => {
    expect(clash(a, b)).toBe(expected);
    expect(clash(b, a)).toBe(expected);
    expect(clash(a, b, 81)).toBe(false);
  });

  it('names both ends, the later first', () => {
    const issues = checkSnapshot(
      snapshot([
        { bind: { address: '0.0.0.0', port: 80 } },
        {},
        { bind: { address: '127.0.0.9', port: 80 } },
      ]),
    );
    expect(issues.map((i) => i.field)).toEqual(['frontends[2].bind', 'frontends[0].bind']);
    expect(issues[0].message).toContain('overlaps 0.0.0.0:80 of frontend "fe0"');
  });
});

describe('a broken document costs little', () => {
  it(`stops after ${LIMITS.issues} issues, however many there are`, () => {
    const frontends = Array.from({ length: LIMITS.frontends }, () => ({ bind: { address: '::', port: 80 } }));
    const issues = checkSnapshot(snapshot(frontends));
    expect(issues).toHaveLength(LIMITS.issues);
  });

  it('refuses a document over the limits before looking at its items (the control plane; the runtime serves any size)', () => {
    const s = snapshot(Array.from({ length: LIMITS.frontends + 1 }, () => ({ name: 'same' })));
    expect(checkSnapshot(s, { stored: emptySnapshot() })).toEqual([
      expect.objectContaining({ kind: 'too-large', field: 'frontends' }),
    ]);
    const servers = snapshot([], (x) => {
      const many = Array.from({ length: LIMITS.servers / 2 + 1 }, (_, i) => ({
        ...x.backends[0].servers[0],
        name: `s${i}`,
      }));
      x.backends.push(
        { ...x.backends[0], name: 'be2', servers: many },
        { ...x.backends[0], name: 'be3', servers: many },
      );
    });
    expect(checkSnapshot(servers, { stored: emptySnapshot() })).toEqual([
      expect.objectContaining({ kind: 'too-large', field: 'backends' }),
    ]);
  });

  it('never throws on a malformed document', () => {
    for (const bad of [
      null,
      42,
      {},
      { defaults: {}, frontends: 'x', backends: [] },
      { defaults: null, frontends: [null, 1], backends: [{ check: 'x', servers: [null] }] },
    ]) {
      expect(() => checkSnapshot(bad)).not.toThrow();
      expect(checkSnapshot(bad).length).toBeGreaterThan(0);
    }
  });
});
