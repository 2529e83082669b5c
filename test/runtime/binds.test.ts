// One listener per bind of a frontend: OPEN only when all of its binds listen, FAILED naming the bind
// that could not bind while the others serve, retried per bind; maxconn counts the frontend's
// sessions across its binds.
import { describe, expect, it } from 'vitest';
import type { FrontendStats } from '../../src/runtime/types.js';
import type { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, freePort, frontend, holdPort, readLine, server, snapshot, sleep } from '../helpers/net.js';
import { refusal } from '../helpers/runtime-errors.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, servers, client } = closeAfterEach();

async function frontendStats(rt: ProxyRuntime, name: string): Promise<FrontendStats> {
  return (await rt.stats()).frontends.find((f) => f.name === name)!;
}

describe('a frontend with several binds', () => {
  it('is FAILED naming the bind that failed while its other binds serve, and OPEN once retried', async () => {
    const [s1] = await servers('s1');
    const [p, q] = [await freePort(), await freePort()];
    const squatter = await holdPort(q);
    defer(squatter.close);
    const rt = runtime({ bindRetry: { initialMs: 60_000 } });
    const binds = [
      { address: '127.0.0.2', port: p },
      { address: '127.0.0.1', port: q },
    ];
    const config = snapshot([frontend('fe', p, 'be', { binds })], [backend('be', [server('s1', s1.port)])]);
    // Strict (a change): refused, nothing listens.
    expect(await refusal(rt.apply(config))).toMatchObject({ code: 'BIND_FAILED' });
    expect((await rt.stats()).frontends).toEqual([]);
    // Boot: the frontend serves on the bind it could take, FAILED naming the other.
    const boot = await rt.apply(config, { tolerateBindErrors: true });
    expect(boot.failedFrontends).toMatchObject([{ frontend: 'fe', code: 'EADDRINUSE' }]);
    const failed = await frontendStats(rt, 'fe');
    expect(failed).toMatchObject({ status: 'FAILED', binds, error: { code: 'EADDRINUSE' } });
    expect(failed.error!.message).toContain(`127.0.0.1:${q}`);
    expect(await readLine(await client(p, { host: '127.0.0.2' }))).toBe('s1');
    // A change that leaves the failing bind alone goes through.
    const maxconn = structuredClone(config);
    maxconn.frontends[0].maxconn = 5;
    await rt.apply(maxconn);
    expect(await frontendStats(rt, 'fe')).toMatchObject({ status: 'FAILED', slim: 5 });

    await squatter.close();
    expect(await rt.retryFrontend('fe')).toMatchObject({ status: 'OPEN' });
    expect(await readLine(await client(q))).toBe('s1');
    expect(await readLine(await client(p, { host: '127.0.0.2' }))).toBe('s1');
    expect(await rt.listenerPaths()).toMatchObject({
      listeners: expect.arrayContaining([
        expect.objectContaining({ frontend: 'fe', address: '127.0.0.2', port: p }),
        expect.objectContaining({ frontend: 'fe', address: '127.0.0.1', port: q }),
      ]),
    });
  });

  it('counts maxconn across its binds', async () => {
    const [s1] = await servers('s1');
    const [p, q] = [await freePort(), await freePort()];
    const rt = runtime();
    const binds = [
      { address: '127.0.0.1', port: p },
      { address: '127.0.0.1', port: q },
    ];
    await rt.apply(
      snapshot([frontend('fe', p, 'be', { binds, maxconn: 2 })], [backend('be', [server('s1', s1.port)])]),
    );
    expect(await readLine(await client(p))).toBe('s1');
    expect(await readLine(await client(q))).toBe('s1');
    // The third session waits (accept paused on both binds) rather than being served.
    const third = await client(q);
    let greeted = false;
    third.once('data', () => (greeted = true));
    await sleep(200);
    expect(greeted).toBe(false);
    expect((await frontendStats(rt, 'fe')).scur).toBe(2);
  });
});
