// Admin states travel with the snapshot (apply's `adminStates`): set in the same swap, so the first
// connection a listener takes already sees them; a server coming back into the snapshot takes the
// state it is given; without the option, servers keep theirs.
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/runtime/errors.js';
import type { AdminState, RuntimeEvent } from '../../src/runtime/types.js';
import { backend, freePort, frontend, readLine, server, snapshot } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { runtime, servers, client } = closeAfterEach();

async function landings(port: number, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(await readLine(await client(port)));
  return names;
}

describe('admin states with the snapshot', () => {
  it('a maint server takes no connection from the very first apply', async () => {
    const [one, two] = await servers('one', 'two');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('one', one.port), server('two', two.port)])],
      ),
      { adminStates: [{ backend: 'be', server: 'one', state: 'maint' }] },
    );
    expect(new Set(await landings(port, 10))).toEqual(new Set(['two']));
    const stats = await rt.stats();
    expect(stats.backends[0].servers.map((s) => [s.name, s.adminState])).toEqual([
      ['one', 'maint'],
      ['two', 'ready'],
    ]);
  });

  it('is the whole truth when given, is kept when absent, and a returning server takes its given state', async () => {
    const [one, two] = await servers('one', 'two');
    const port = await freePort();
    const rt = runtime();
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    const both = snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('one', one.port), server('two', two.port)])],
    );
    const onlyTwo = snapshot([frontend('fe', port, 'be')], [backend('be', [server('two', two.port)])]);
    const stateOf = async (name: string): Promise<AdminState | undefined> =>
      (await rt.stats()).backends[0].servers.find((s) => s.name === name)?.adminState;

    await rt.apply(both);
    await rt.setServerState('be', 'one', 'drain');
    await rt.apply(both); // no adminStates: kept
    expect(await stateOf('one')).toBe('drain');
    await rt.apply(both, { adminStates: [] }); // given and not listed: ready, with the event
    expect(await stateOf('one')).toBe('ready');
    expect(events.filter((e) => e.type === 'admin-state')).toMatchObject([
      { server: 'one', from: 'ready', to: 'drain' },
      { server: 'one', from: 'drain', to: 'ready' },
    ]);

    // Held by a live session while it leaves (a retired server), then back with its stored state.
    const held = await client(port);
    const first = await readLine(held);
    const maintOne = [{ backend: 'be', server: 'one', state: 'maint' as const }];
    await rt.apply(onlyTwo, { adminStates: maintOne });
    await rt.apply(both, { adminStates: maintOne });
    expect(await stateOf('one')).toBe('maint');
    expect(new Set(await landings(port, 6))).toEqual(new Set(['two']));
    expect(['one', 'two']).toContain(first);
  });

  it('refuses a malformed adminStates and changes nothing', async () => {
    const [one] = await servers('one');
    const port = await freePort();
    const rt = runtime();
    const snap = snapshot([frontend('fe', port, 'be')], [backend('be', [server('one', one.port)])]);
    await rt.apply(snap);
    const refused = await rt
      .apply(snapshot([], [backend('be', [])]), {
        adminStates: [{ backend: 'be', server: 'one', state: 'asleep' as AdminState }],
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RuntimeError);
    expect(refused).toMatchObject({ code: 'INVALID_SNAPSHOT', subject: { field: 'adminStates[0]' } });
    expect(await readLine(await client(port))).toBe('one');
  });
});
