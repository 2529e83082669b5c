// A frontend that cannot bind (FAILED) blocks no other change, retries its bind by itself with
// backoff (shown in stats), opens once its port is free (an event says so), and can be retried at once.
import { describe, expect, it } from 'vitest';
import type { FrontendStats, RuntimeEvent } from '../../src/runtime/types.js';
import type { ProxyRuntime } from '../../src/runtime/runtime.js';
import {
  backend,
  freePort,
  frontend,
  holdPort,
  readLine,
  server,
  sleep,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { refusal } from '../helpers/runtime-errors.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, servers, client } = closeAfterEach();

/** Another socket holding 127.0.0.1:port until the test ends; close() frees it sooner. */
async function squat(port: number): Promise<{ close(): Promise<void> }> {
  const squatter = await holdPort(port);
  defer(squatter.close);
  return squatter;
}

async function frontendStats(rt: ProxyRuntime, name: string): Promise<FrontendStats> {
  return (await rt.stats()).frontends.find((f) => f.name === name)!;
}

describe('a FAILED frontend', () => {
  it('blocks no change that leaves it alone, but a change that moves it onto a taken port fails', async () => {
    const [s1] = await servers('s1');
    const [free, blocked, other] = [await freePort(), await freePort(), await freePort()];
    await squat(blocked);
    await squat(other);
    const rt = runtime({ bindRetry: { initialMs: 60_000 } });
    const base = snapshot(
      [frontend('ok', free, 'be'), frontend('blocked', blocked, 'be')],
      [backend('be', [server('s1', s1.port)])],
    );
    const boot = await rt.apply(base, { tolerateBindErrors: true });
    expect(boot.failedFrontends).toMatchObject([{ frontend: 'blocked', code: 'EADDRINUSE' }]);
    const failed = await frontendStats(rt, 'blocked');
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'EADDRINUSE' }, retry: { attempts: 0 } });
    expect(failed.retry!.nextAt).toBeGreaterThan(Date.now());

    // An unrelated weight change, and a change of the FAILED frontend that keeps its bind: both apply.
    const weight = structuredClone(base);
    weight.backends[0].servers[0].weight = 7;
    const result = await rt.apply(weight);
    expect(result.failedFrontends).toMatchObject([{ frontend: 'blocked' }]);
    expect((await rt.stats()).backends[0].servers[0].weight).toBe(7);
    const maxconn = structuredClone(weight);
    maxconn.frontends[1].maxconn = 5;
    await rt.apply(maxconn);
    expect(await frontendStats(rt, 'blocked')).toMatchObject({ status: 'FAILED', slim: 5 });
    expect(await readLine(await client(free))).toBe('s1');

    // Moving it to another taken port is a change about it: refused, nothing changed.
    const moved = structuredClone(maxconn);
    moved.frontends[1].bind.port = other;
    moved.backends[0].servers[0].weight = 9;
    const error = await refusal(rt.apply(moved));
    expect(error).toMatchObject({
      code: 'BIND_FAILED',
      cause_code: 'EADDRINUSE',
      subject: { frontend: 'blocked' },
    });
    expect((await rt.stats()).backends[0].servers[0].weight).toBe(7);
  });

  it('retries with backoff and opens by itself once the port is free, with an event', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const squatter = await squat(port);
    const rt = runtime({ bindRetry: { initialMs: 40, maxMs: 160 } });
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]), {
      tolerateBindErrors: true,
    });
    // 40, 80, 160, 160 ms: a fourth attempt within ~0.5 s, and never more than maxMs ahead.
    await waitFor(
      async () => ((await frontendStats(rt, 'fe')).retry?.attempts ?? 0) >= 4,
      5000,
      '4 attempts',
    );
    const stats = await frontendStats(rt, 'fe');
    expect(stats.status).toBe('FAILED');
    expect(stats.retry!.nextAt - Date.now()).toBeLessThanOrEqual(160);
    expect(events.filter((e) => e.type === 'frontend-error')).toHaveLength(1);

    await squatter.close();
    await waitFor(async () => (await frontendStats(rt, 'fe')).status === 'OPEN', 5000, 'open');
    const open = await frontendStats(rt, 'fe');
    expect(open.error).toBeUndefined();
    expect(open.retry).toBeUndefined();
    expect(await readLine(await client(port))).toBe('s1');
    const opened = events.filter((e) => e.type === 'frontend-open');
    expect(opened).toMatchObject([{ frontend: 'fe', port, trigger: 'backoff' }]);
    expect((opened[0] as { attempts: number }).attempts).toBeGreaterThanOrEqual(5);
  });

  it('retries at once on request: still failing, then open; refuses what is not FAILED', async () => {
    const [s1] = await servers('s1');
    const [port, offPort] = [await freePort(), await freePort()];
    const squatter = await squat(port);
    const rt = runtime({ bindRetry: { initialMs: 60_000 } });
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be'), frontend('off', offPort, 'be', { enabled: false })],
        [backend('be', [server('s1', s1.port)])],
      ),
      { tolerateBindErrors: true },
    );
    const still = await refusal(rt.retryFrontend('fe'));
    expect(still).toMatchObject({
      code: 'BIND_FAILED',
      cause_code: 'EADDRINUSE',
      subject: { frontend: 'fe' },
    });
    expect(await frontendStats(rt, 'fe')).toMatchObject({ status: 'FAILED', retry: { attempts: 1 } });

    await squatter.close();
    expect(await rt.retryFrontend('fe')).toMatchObject({ name: 'fe', status: 'OPEN' });
    expect(await readLine(await client(port))).toBe('s1');
    expect(await refusal(rt.retryFrontend('fe'))).toMatchObject({ code: 'NOT_FAILED' });
    expect(await refusal(rt.retryFrontend('off'))).toMatchObject({ code: 'NOT_FAILED' });
    expect(await refusal(rt.retryFrontend('nope'))).toMatchObject({ code: 'UNKNOWN_FRONTEND' });
  });

  it('stops retrying once removed or disabled', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const squatter = await squat(port);
    const rt = runtime({ bindRetry: { initialMs: 30, maxMs: 30 } });
    const snap = snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]);
    await rt.apply(snap, { tolerateBindErrors: true });
    const off = structuredClone(snap);
    off.frontends[0].enabled = false;
    await rt.apply(off);
    expect(await frontendStats(rt, 'fe')).toMatchObject({ status: 'STOP' });
    expect((await frontendStats(rt, 'fe')).retry).toBeUndefined();
    await squatter.close();
    // Ten retry periods later the port is still free: no retry took it.
    await sleep(300);
    await squat(port);
    expect((await frontendStats(rt, 'fe')).status).toBe('STOP');
  });
});
