// A dead server under a reconnect storm fails every client's first try there: each is retried on another
// server, and the failures are logged at most once a second per server, with a count (src/runtime/dispatch.ts).
import { describe, expect, it } from 'vitest';
import { backend, connect, freePort, frontend, readLine, server, snapshot } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, servers } = closeAfterEach();

describe('failed connects', () => {
  it('are retried on another server and logged once a second per server, not once per client', async () => {
    const [alive] = await servers('alive');
    const deadPort = await freePort(); // nothing listens: every connect is refused
    const port = await freePort();
    const lines: string[] = [];
    const rt = runtime({ log: (level, message) => level === 'warn' && lines.push(message) });
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('dead', deadPort), server('alive', alive.port)])],
      ),
    );
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    for (const c of clients) defer(() => c.destroy());
    // Every client is served by the live server, half of them after a refused first try on the dead one.
    expect(await Promise.all(clients.map((c) => readLine(c)))).toEqual(Array(20).fill('alive'));
    const stats = await rt.stats();
    const dead = stats.backends[0].servers.find((s) => s.name === 'dead')!;
    expect(dead.econ).toBeGreaterThanOrEqual(5);
    const failures = lines.filter((l) => l.startsWith('connect to be/dead failed'));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(2);
  });
});
