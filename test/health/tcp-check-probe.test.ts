// Issue 9: the tcp-check sequence (check.steps) and fastinter/downinter, against real loopback servers.
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckStep } from '../../src/schema/snapshot.js';
import { HealthChecker } from '../../src/runtime/health/checker.js';
import { tcpCheckProbe } from '../../src/runtime/health/tcp-check-probe.js';
import { closedPort } from '../helpers/health-targets.js';
import { sleep, waitFor } from '../helpers/net.js';
import { behavingServer, type CountingServer } from './redis-like.js';

const PING: CheckStep[] = [{ send: 'PING\r\n' }, { expect: { string: '+PONG' } }];
const PING_BINARY: CheckStep[] = [{ sendBinary: '50494e470d0a' }, { expect: { binary: '2b504f4e47' } }];

const servers: CountingServer[] = [];
const checkers: HealthChecker[] = [];
afterEach(async () => {
  for (const c of checkers.splice(0)) c.stop();
  for (const s of servers.splice(0)) await s.close();
});

async function serve(behaviour: Parameters<typeof behavingServer>[0]): Promise<CountingServer> {
  const s = await behavingServer(behaviour);
  servers.push(s);
  return s;
}

const probeOnce = (steps: CheckStep[], port: number, timeoutMs = 1000) =>
  tcpCheckProbe(steps)({ address: '127.0.0.1', port }, timeoutMs);

describe('tcp-check sequence probe', () => {
  it('passes (L7OK) when the server answers what is expected, text or binary', async () => {
    const s = await serve('pong');
    expect(await probeOnce(PING, s.port)).toMatchObject({ ok: true, status: 'L7OK' });
    expect(await probeOnce(PING_BINARY, s.port)).toMatchObject({ ok: true, status: 'L7OK' });
  });

  it("fails L7RSP with HAProxy's wording and step number when the answer lacks the content", async () => {
    const s = await serve('wrong-then-close');
    expect(await probeOnce(PING, s.port)).toMatchObject({
      ok: false,
      status: 'L7RSP',
      description: "TCPCHK did not match content '+PONG' at step 3",
    });
    expect(await probeOnce(PING_BINARY, s.port)).toMatchObject({
      status: 'L7RSP',
      description: 'TCPCHK did not match content (binary) at step 3',
    });
  });

  it('times out L7TOUT on a server that never answers, or answers wrong and stays open', async () => {
    for (const behaviour of ['silent', 'wrong-stay-open'] as const) {
      const s = await serve(behaviour);
      const result = await probeOnce(PING, s.port, 300);
      expect(result).toMatchObject({
        ok: false,
        status: 'L7TOUT',
        description: "Layer7 timeout at step 3 of tcp-check (expect string '+PONG')",
      });
      expect(result.durationMs).toBeGreaterThanOrEqual(250);
    }
  });

  it('fails L4CON on a closed port', async () => {
    expect(await probeOnce(PING, await closedPort())).toMatchObject({
      status: 'L4CON',
      description: 'Connection refused at step 1 of tcp-check (connect)',
    });
  });

  it('reads at most 16 KB while expecting: a server streaming other bytes fails the check at once', async () => {
    const s = await serve('flood');
    const result = await probeOnce(PING, s.port, 5000);
    expect(result).toMatchObject({ status: 'L7RSP' });
    expect(result.durationMs).toBeLessThan(4000); // not the timeout: the bound ended it
  });

  it('runs a send after the last expect: the QUIT after the PONG reaches the server', async () => {
    const s = await serve('pong');
    const steps: CheckStep[] = [...PING, { send: 'QUIT\r\n' }];
    expect(await probeOnce(steps, s.port)).toMatchObject({ status: 'L7OK' });
    await waitFor(() => s.received.includes('QUIT\r\n'), 2000, 'QUIT received');
    expect(s.received).toBe('PING\r\nQUIT\r\n');
  });

  it('searches what was read since the last send, as HAProxy (two expects on one answer both pass)', async () => {
    const s = await serve('pong');
    const steps: CheckStep[] = [...PING, { expect: { string: 'PONG\r\n' } }];
    expect(await probeOnce(steps, s.port)).toMatchObject({ status: 'L7OK' });
    // A second send empties it: the old answer no longer counts, and the server answers nothing new.
    const again: CheckStep[] = [...PING, { send: 'X' }, { expect: { string: '+PONG' } }];
    expect(await probeOnce(again, s.port, 300)).toMatchObject({ status: 'L7TOUT' });
  });
});

describe('fastinter and downinter', () => {
  /** Probes the server accepted over `windowMs` after the checker reached `health`. */
  async function rate(
    s: CountingServer,
    settings: { fastinter?: number; downinter?: number; fall: number },
    windowMs: number,
  ): Promise<number> {
    const c = new HealthChecker({
      target: { address: '127.0.0.1', port: s.port },
      probe: tcpCheckProbe(PING),
      inter: 2000,
      rise: 2,
      timeout: 1000,
      onChange: () => {},
      ...settings,
    });
    checkers.push(c);
    c.start();
    // The first probe runs at once; wait for it to be counted.
    const deadline = Date.now() + 3000;
    while (c.lastCheckAt === 0 && Date.now() < deadline) await sleep(5);
    const before = s.accepted;
    await sleep(windowMs);
    c.stop();
    return s.accepted - before;
  }

  it('downinter sets the rate while DOWN (inter 2 s: at most 1 probe in 600 ms; downinter 50 ms: several)', async () => {
    const slow = await rate(await serve('wrong-then-close'), { fall: 1 }, 600);
    const fast = await rate(await serve('wrong-then-close'), { fall: 1, downinter: 50 }, 600);
    expect(slow).toBeLessThanOrEqual(1);
    expect(fast).toBeGreaterThanOrEqual(4);
  });

  it('fastinter sets the rate while a transition is under way (failures counted, fall not reached)', async () => {
    const slow = await rate(await serve('wrong-then-close'), { fall: 1000 }, 600);
    const fast = await rate(await serve('wrong-then-close'), { fall: 1000, fastinter: 50 }, 600);
    // downinter does not apply before the server is DOWN.
    const notDown = await rate(await serve('wrong-then-close'), { fall: 1000, downinter: 50 }, 600);
    expect(slow).toBeLessThanOrEqual(1);
    expect(notDown).toBeLessThanOrEqual(1);
    expect(fast).toBeGreaterThanOrEqual(4);
  });

  it('a healthy server is checked every inter, whatever fastinter and downinter say', async () => {
    const n = await rate(await serve('pong'), { fall: 1, fastinter: 50, downinter: 50 }, 600);
    expect(n).toBeLessThanOrEqual(1);
  });
});
