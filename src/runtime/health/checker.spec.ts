import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Health } from '../types.js';
import { HealthChecker, type HealthCheckerOptions } from './checker.js';
import type { Probe, ProbeResult } from './probe.js';
import { tcpProbe } from './tcp-probe.js';
import {
  blackhole,
  closedPort,
  closeServer,
  listeningServer,
  portOf,
  type Blackhole,
} from '../../../test/helpers/health-targets.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const refused: ProbeResult = { ok: false, status: 'L4CON', durationMs: 0, description: 'Connection refused' };

describe('HealthChecker', () => {
  const checkers: HealthChecker[] = [];
  const servers: net.Server[] = [];
  let hole: Blackhole | undefined;

  afterEach(async () => {
    for (const checker of checkers.splice(0)) checker.stop();
    for (const server of servers.splice(0)) await closeServer(server);
    await hole?.close();
    hole = undefined;
  });

  function checker(port: number, overrides: Partial<HealthCheckerOptions> = {}) {
    const changes: Array<{ health: Health; result: ProbeResult }> = [];
    const results: ProbeResult[] = [];
    const c = new HealthChecker({
      target: { address: '127.0.0.1', port },
      probe: tcpProbe,
      inter: 50,
      fall: 2,
      rise: 2,
      timeout: 500,
      onResult: (r) => results.push(r),
      onChange: (health, result) => changes.push({ health, result }),
      ...overrides,
    });
    checkers.push(c);
    return { checker: c, changes, results };
  }

  it('starts UP with nothing checked yet', () => {
    const before = Date.now();
    const { checker: c } = checker(1);
    expect(c.health).toBe('UP');
    expect(c.paused).toBe(false);
    expect(c.checking).toBe(false);
    expect(c.lastResult).toBeUndefined();
    expect(c.lastCheckAt).toBe(0);
    expect(c.chkfail).toBe(0);
    expect(c.chkdown).toBe(0);
    expect(c.downtimeMs).toBe(0);
    expect(c.lastChangeAt).toBeGreaterThanOrEqual(before);
  });

  it('stays UP while the server accepts, recording each check', async () => {
    const server = await listeningServer();
    servers.push(server);
    const { checker: c, changes, results } = checker(portOf(server));
    c.start();
    await until(() => results.length >= 3);
    expect(c.health).toBe('UP');
    expect(changes).toEqual([]);
    expect(c.lastResult?.status).toBe('L4OK');
    expect(c.lastCheckAt).toBeGreaterThan(0);
    expect(c.chkfail).toBe(0);
  });

  it('marks DOWN after `fall` failures and UP again after `rise` successes, keeping downtime', async () => {
    const server = await listeningServer();
    const port = portOf(server);
    // The state right after each result.
    const seen: Array<{ health: Health; checking: boolean; failures: number; successes: number }> = [];
    const { checker: c, changes } = checker(port, {
      fall: 3,
      rise: 2,
      onResult: () =>
        seen.push({
          health: c.health,
          checking: c.checking,
          failures: c.consecutiveFailures,
          successes: c.consecutiveSuccesses,
        }),
    });
    c.start();
    await until(() => seen.length >= 1);
    await closeServer(server);
    await until(() => c.health === 'DOWN');
    expect(changes).toHaveLength(1);
    expect(changes[0].health).toBe('DOWN');
    expect(changes[0].result).toMatchObject({
      ok: false,
      status: 'L4CON',
      description: 'Connection refused',
    });
    expect(c.chkdown).toBe(1);
    expect(c.chkfail).toBe(3);
    const falling = seen.slice(seen.findIndex((s) => s.failures === 1));
    expect(falling.map(({ health, checking, failures }) => ({ health, checking, failures }))).toEqual([
      { health: 'UP', checking: true, failures: 1 },
      { health: 'UP', checking: true, failures: 2 },
      { health: 'DOWN', checking: false, failures: 0 },
    ]);

    const downAt = c.lastChangeAt;
    await sleep(60);
    expect(c.downtimeMs).toBeGreaterThanOrEqual(50);

    const again = await listeningServer(port);
    servers.push(again);
    seen.length = 0;
    await until(() => c.health === 'UP');
    const rising = seen.slice(seen.findIndex((s) => s.successes === 1));
    expect(rising.map(({ health, checking, successes }) => ({ health, checking, successes }))).toEqual([
      { health: 'DOWN', checking: true, successes: 1 },
      { health: 'UP', checking: false, successes: 0 },
    ]);
    expect(changes.map((x) => x.health)).toEqual(['DOWN', 'UP']);
    expect(changes[1].result.status).toBe('L4OK');
    expect(c.lastChangeAt).toBeGreaterThan(downAt);
    const downtime = c.downtimeMs;
    expect(downtime).toBeGreaterThanOrEqual(c.lastChangeAt - downAt - 1);
    await sleep(60);
    expect(c.downtimeMs).toBe(downtime); // no longer growing while UP
    expect(c.checking).toBe(false);
  });

  it('needs consecutive failures: a success in between starts the count again', () => {
    const { checker: c, changes } = checker(1, { fall: 2 });
    c.reportPassiveFailure(refused);
    expect(c.checking).toBe(true);
    expect(c.consecutiveFailures).toBe(1);
    // Passive failures share the fall counter; the next one completes it.
    c.reportPassiveFailure(refused);
    expect(c.health).toBe('DOWN');
    expect(changes).toHaveLength(1);
    expect(c.chkfail).toBe(2);
  });

  it('counts failures seen on live traffic toward `fall` together with probe failures', async () => {
    const port = await closedPort();
    const { checker: c, results } = checker(port, { fall: 3, inter: 10_000 });
    c.start();
    await until(() => results.length === 1); // one failed probe
    expect(c.health).toBe('UP');
    c.reportPassiveFailure(refused);
    expect(c.health).toBe('UP');
    c.reportPassiveFailure(refused);
    expect(c.health).toBe('DOWN');
  });

  it('ignores passive failures and runs no probe while paused (maint), and resumes', async () => {
    const port = await closedPort();
    const { checker: c, results } = checker(port, { fall: 1 });
    c.pause();
    c.start();
    c.reportPassiveFailure(refused);
    await sleep(200);
    expect(results).toHaveLength(0);
    expect(c.health).toBe('UP');
    expect(c.paused).toBe(true);
    c.resume();
    expect(c.paused).toBe(false);
    await until(() => c.health === 'DOWN');
    expect(results.length).toBeGreaterThanOrEqual(1);
  });

  it('stops probing on stop()', async () => {
    const server = await listeningServer();
    servers.push(server);
    const { checker: c, results } = checker(portOf(server));
    c.start();
    await until(() => results.length >= 2);
    c.stop();
    await sleep(30); // a probe in flight at stop() is dropped
    const count = results.length;
    await sleep(200);
    expect(results.length).toBe(count);
  });

  it('never runs two probes at once, even when a probe outlasts the interval', async () => {
    hole = await blackhole();
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const counting: Probe = async (target, timeoutMs) => {
      calls++;
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        return await tcpProbe(target, timeoutMs);
      } finally {
        active--;
      }
    };
    const {
      checker: c,
      results,
      changes,
    } = checker(hole.port, { probe: counting, inter: 10, timeout: 120, fall: 2 });
    c.start();
    await until(() => results.length >= 3);
    expect(maxActive).toBe(1);
    expect(calls - results.length).toBeLessThanOrEqual(1);
    expect(results.every((r) => r.status === 'L4TOUT')).toBe(true);
    expect(changes[0]).toMatchObject({ health: 'DOWN', result: { status: 'L4TOUT' } });
  });

  it('applies new settings from update(): a lower fall takes effect on the next result', async () => {
    const port = await closedPort();
    const { checker: c, results } = checker(port, { fall: 100, inter: 20 });
    c.start();
    await until(() => results.length >= 2);
    expect(c.health).toBe('UP');
    c.update({ fall: 3, inter: 20, rise: 1, timeout: 300 });
    expect(c.fall).toBe(3);
    await until(() => c.health === 'DOWN');
  });

  it('is not postponed by frequent updates, and a shorter inter shortens the pending wait', async () => {
    const server = await listeningServer();
    servers.push(server);
    const { checker: c, results } = checker(portOf(server), { inter: 150 });
    c.start();
    await until(() => results.length === 1);
    // Applies every 20 ms with unchanged settings (as a runtime re-applying a snapshot does).
    const started = Date.now();
    while (results.length < 3 && Date.now() - started < 2000) {
      c.update({ inter: 150, fall: 2, rise: 2, timeout: 500 });
      await sleep(20);
    }
    expect(results.length).toBe(3);
    expect(Date.now() - started).toBeLessThan(1500);
    // A long wait cut short: the next probe comes after the new, shorter interval counted from the last probe.
    c.update({ inter: 60_000 });
    await sleep(50);
    const count = results.length;
    c.update({ inter: 80 });
    await until(() => results.length > count, 1000);
  });

  it('keeps checking when a listener throws', async () => {
    const server = await listeningServer();
    servers.push(server);
    let calls = 0;
    const { checker: c } = checker(portOf(server), {
      onResult: () => {
        calls++;
        throw new Error('listener bug');
      },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    c.start();
    await until(() => calls >= 3);
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
  });
});
