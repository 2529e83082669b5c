// The runtime's small pure parts: CIDR matching, snapshot checks, rate meter, history ring.
import { describe, expect, it, vi } from 'vitest';
import { AllowList, parseCidr, unwrapMappedIPv4 } from '../../src/runtime/cidr.js';
import { checkSnapshot } from '../../src/runtime/snapshot-check.js';
import { HistoryRing, RateMeter } from '../../src/runtime/stats.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, frontend, server, snapshot } from '../helpers/net.js';
import { testNodeInternals } from '../helpers/internals.js';

describe('allow-lists', () => {
  it('matches IPv4 and IPv6 CIDRs and unwraps IPv4-mapped clients', () => {
    const list = new AllowList(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::ffff:172.16.0.0/108']);
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('::ffff:10.1.1.1')).toBe(true);
    expect(list.allows('11.0.0.1')).toBe(false);
    expect(list.allows('192.168.1.7')).toBe(true);
    expect(list.allows('192.168.1.8')).toBe(false);
    expect(list.allows('fd12:3456::1')).toBe(true);
    expect(list.allows('fe80::1')).toBe(false);
    expect(list.allows('172.16.9.9')).toBe(true);
    expect(list.allows('172.32.0.1')).toBe(false);
    expect(list.allows('garbage')).toBe(false);
    expect(new AllowList([]).allows('127.0.0.1')).toBe(false);
  });

  it('rejects malformed CIDRs', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'host/8', '10.0.0.0/', '10.0.0.0/8x', '::ffff:1.2.3.4/64']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
    expect(unwrapMappedIPv4('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(unwrapMappedIPv4('::1')).toBe('::1');
  });
});

describe('snapshot check', () => {
  const valid = () => snapshot([frontend('fe', 1000, 'be')], [backend('be', [server('s1', 2000)])]);

  it('accepts a valid snapshot', () => {
    expect(() => checkSnapshot(valid())).not.toThrow();
  });

  it.each([
    ['frontends[0].bind.port', (s: ReturnType<typeof valid>) => (s.frontends[0].bind.port = 70000)],
    [
      'frontends[0].bind.address',
      (s: ReturnType<typeof valid>) => (s.frontends[0].bind.address = 'example.com'),
    ],
    ['frontends[0].allow[0]', (s: ReturnType<typeof valid>) => (s.frontends[0].allow = ['1.2.3.4/40'])],
    ['frontends[0].maxconn', (s: ReturnType<typeof valid>) => (s.frontends[0].maxconn = 0)],
    ['frontends[1].bind', (s: ReturnType<typeof valid>) => s.frontends.push(frontend('fe2', 1000, 'be'))],
    ['frontends[1].name', (s: ReturnType<typeof valid>) => s.frontends.push(frontend('fe', 1001, 'be'))],
    [
      'backends[0].servers[0].weight',
      (s: ReturnType<typeof valid>) => (s.backends[0].servers[0].weight = 257),
    ],
    [
      'backends[0].balance',
      (s: ReturnType<typeof valid>) => ((s.backends[0] as { balance: string }).balance = 'random'),
    ],
    ['backends[0].check.fall', (s: ReturnType<typeof valid>) => (s.backends[0].check.fall = 0)],
    [
      'backends[0].servers[1].name',
      (s: ReturnType<typeof valid>) => s.backends[0].servers.push(server('s1', 2001)),
    ],
    ['defaults.timeouts.connect', (s: ReturnType<typeof valid>) => (s.defaults.timeouts.connect = -1)],
  ])('names the field %s', (field, mutate) => {
    const s = valid();
    mutate(s);
    expect(() => checkSnapshot(s)).toThrow(
      expect.objectContaining({ code: 'INVALID_SNAPSHOT', subject: expect.objectContaining({ field }) }),
    );
  });
});

describe('rate meter', () => {
  it('counts events over the last second, HAProxy style', () => {
    const meter = new RateMeter();
    const base = 1_000_000_000_000; // a whole second
    for (let i = 0; i < 10; i++) meter.hit(base + i * 10);
    expect(meter.rate(base + 500)).toBe(10);
    // Half a second into the next second, half of the previous second still counts.
    expect(meter.rate(base + 1500)).toBe(5);
    expect(meter.rate(base + 2500)).toBe(0);
    expect(meter.max).toBe(10);
  });
});

describe('history ring', () => {
  it('keeps the newest samples, oldest first', () => {
    const ring = new HistoryRing(3);
    for (let t = 1; t <= 5; t++) ring.push({ t, frontends: {}, servers: {} });
    expect(ring.toArray().map((s) => s.t)).toEqual([3, 4, 5]);
  });

  it('samples the runtime once a second and keeps at least 15 minutes', async () => {
    // Only the clock and the sampling interval are simulated (the self-tests and sockets stay real):
    // 1,000 one-second ticks, then the whole ring is read back.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      const rt = new ProxyRuntime({ historySize: 10, nodeInternals: testNodeInternals });
      await rt.apply(snapshot([], [backend('be', [server('s1', 2000)])]));
      const start = Date.now();
      vi.advanceTimersByTime(1000 * 1000);
      const history = await rt.history();
      // A requested size under 15 minutes is raised to 900 samples; the oldest 100 were dropped.
      expect(history).toHaveLength(900);
      expect(history[0].t).toBe(start + 101 * 1000);
      expect(history.at(-1)!.t).toBe(start + 1000 * 1000);
      for (let i = 1; i < history.length; i++) expect(history[i].t - history[i - 1].t).toBe(1000);
      for (const sample of history) {
        expect(sample.servers['be/s1']).toEqual({ scur: 0, stot: 0, bin: 0, bout: 0 });
      }
      await rt.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
