// leastconn across workers: a worker counts the sessions the other workers reported for each server
// (ProxyRuntime.setRemoteSessions, pushed by the pool every report interval; docs/workers.md).
import { describe, expect, it } from 'vitest';
import { backend, freePort, frontend, readLine, server, snapshot } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { runtime, servers, client } = closeAfterEach();

describe('leastconn with other workers’ sessions', () => {
  it('sends new connections to the server the other workers load least', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', s1.port), server('s2', s2.port)], { balance: 'leastconn' })],
      ),
    );
    // Other workers hold 6 sessions on s1: the next 6 here go to s2, then they alternate.
    rt.setRemoteSessions({ 'be/s1': 6 });
    const names: string[] = [];
    for (let i = 0; i < 8; i++) names.push(await readLine(await client(port)));
    expect(names.slice(0, 6)).toEqual(Array(6).fill('s2'));
    expect(names.slice(6).sort()).toEqual(['s1', 's2']);
    expect(rt.loadReport().servers).toEqual({ 'be/s1': 1, 'be/s2': 7 });

    // Forgotten when the other workers report none.
    rt.setRemoteSessions({});
    const next = await readLine(await client(port));
    expect(next).toBe('s1');
  });
});
