// Server host names: resolved when applied (a name that doesn't resolve refuses the apply, naming the
// field, and changes nothing), re-resolved periodically (a new address is followed; a transient
// failure keeps the last good one), and a server whose name stops resolving goes DOWN saying why.
// `localhost` resolves through /etc/hosts and `.invalid` never resolves (RFC 6761); names that change
// answer go through the runtime's `lookup` option, which stands in for the system resolver.
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent, ServerStats } from '../../src/runtime/types.js';
import type { ProxyRuntime } from '../../src/runtime/runtime.js';
import {
  backend,
  closed,
  freePort,
  frontend,
  listen,
  named,
  readLine,
  server,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { refusal } from '../helpers/runtime-errors.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, servers, client } = closeAfterEach();

async function serverStats(rt: ProxyRuntime, name: string): Promise<ServerStats> {
  return (await rt.stats()).backends.flatMap((b) => b.servers).find((s) => s.name === name)!;
}

/** A resolver whose answers the test sets: an address list, or an errno code to fail with. */
function fakeDns(answers: Record<string, string | { code: string } | 'hang'>) {
  const lookups: string[] = [];
  const lookup = async (host: string): Promise<string[]> => {
    lookups.push(host);
    const answer = answers[host];
    if (answer === 'hang') return new Promise<string[]>(() => {});
    if (answer === undefined) throw Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' });
    if (typeof answer === 'object') throw Object.assign(new Error(`${answer.code} ${host}`), answer);
    return [answer];
  };
  return { answers, lookup, lookups };
}

describe('server host names', () => {
  it('resolves localhost at apply; refuses a name that does not resolve, naming the field, changing nothing', async () => {
    const [up] = await servers('up');
    const port = await freePort();
    const rt = runtime();
    const good = snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('s1', up.port, { address: 'localhost' })])],
    );
    await rt.apply(good);
    expect(await readLine(await client(port))).toBe('up');
    expect(await serverStats(rt, 's1')).toMatchObject({
      address: 'localhost',
      resolved: '127.0.0.1',
      status: 'no check',
    });

    const bad = structuredClone(good);
    bad.backends[0].servers.push(server('s2', up.port, { address: 'nothing.invalid' }));
    bad.frontends[0].maxconn = 3;
    const error = await refusal(rt.apply(bad));
    expect(error).toMatchObject({
      code: 'INVALID_SNAPSHOT',
      cause_code: 'ENOTFOUND',
      subject: { field: 'backends[0].servers[1].address' },
    });
    expect(error.message).toContain('nothing.invalid');
    const stats = await rt.stats();
    expect(stats.frontends[0].slim).not.toBe(3);
    expect(stats.backends[0].servers.map((s) => s.name)).toEqual(['s1']);

    // The dry run tells the same, and changes nothing either.
    expect(await refusal(rt.check(bad))).toMatchObject({
      subject: { field: 'backends[0].servers[1].address' },
    });
    await rt.check(good);
  });

  it('follows a name to its new address, keeps the last good one on a transient failure, and goes DOWN when it no longer resolves', async () => {
    const one = await listen(named('one'), '127.0.0.1');
    const two = await listen(named('two'), '127.0.0.2');
    defer(() => one.close());
    defer(() => two.close());
    const dns = fakeDns({ 'app.test': '127.0.0.1' });
    const port = await freePort();
    const rt = runtime({ resolver: { lookup: dns.lookup, intervalMs: 30, timeoutMs: 200 } });
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', one.port, { address: 'app.test' })])],
      ),
    );
    expect(await readLine(await client(port))).toBe('one');

    // A resolver that times out or fails to answer: last good address kept, server stays UP.
    dns.answers['app.test'] = 'hang';
    const before = dns.lookups.length;
    await waitFor(() => dns.lookups.length >= before + 2, 5000, 'two refreshes');
    dns.answers['app.test'] = { code: 'EAI_AGAIN' };
    await waitFor(() => dns.lookups.length >= before + 4, 5000, 'two more refreshes');
    expect(await serverStats(rt, 's1')).toMatchObject({ health: 'UP', resolved: '127.0.0.1' });
    expect(await readLine(await client(port))).toBe('one');

    // Gone for good: DOWN, with a check status and description that say why; no session lands on it.
    dns.answers['app.test'] = { code: 'ENOTFOUND' };
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'DOWN', 5000, 'DOWN');
    expect(await serverStats(rt, 's1')).toMatchObject({
      status: 'DOWN',
      check_status: 'L4CON',
      check_desc: 'DNS: name no longer resolves (ENOTFOUND)',
    });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'health', server: 's1', to: 'DOWN', checkStatus: 'L4CON' }),
    );
    expect((await closed(await client(port))).length).toBe(0);
    expect((await rt.stats()).frontends[0].noServer).toBe(1);

    // Back, at another address: UP again, and new sessions go there.
    // The name will come back at two's address; two listens on its own port, so the change says so.
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', two.port, { address: 'app.test' })])],
      ),
    );
    expect((await serverStats(rt, 's1')).health).toBe('DOWN');
    dns.answers['app.test'] = '127.0.0.2';
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'UP', 5000, 'UP again');
    expect(await serverStats(rt, 's1')).toMatchObject({ resolved: '127.0.0.2', check_desc: '' });
    expect(await readLine(await client(port))).toBe('two');
  }, 20_000);

  it('never makes a connection wait for DNS, and checks go to the resolved address', async () => {
    const [up] = await servers('up');
    const dns = fakeDns({ 'slow.test': '127.0.0.1' });
    const port = await freePort();
    const rt = runtime({ resolver: { lookup: dns.lookup, intervalMs: 20, timeoutMs: 60_000 } });
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [
          backend('be', [server('s1', up.port, { address: 'slow.test', check: true })], {
            check: { type: 'tcp', inter: 50, fall: 1, rise: 1 },
          }),
        ],
      ),
    );
    await waitFor(async () => (await serverStats(rt, 's1')).check_status === 'L4OK', 5000, 'a passing check');
    const before = dns.lookups.length;
    dns.answers['slow.test'] = 'hang'; // the next refresh hangs for a minute (no other starts meanwhile)
    await waitFor(() => dns.lookups.length > before, 5000, 'a hanging refresh');
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect(await readLine(await client(port))).toBe('up');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(dns.lookups.length).toBe(before + 1);
  });

  it('looks names up two at a time, and stops at the first name that fails (an outage costs an apply one lookup, not one per name)', async () => {
    const [up] = await servers('up');
    const port = await freePort();
    let inFlight = 0;
    let most = 0;
    const lookups: string[] = [];
    const lookup = (host: string) => {
      lookups.push(host);
      most = Math.max(most, ++inFlight);
      return new Promise<string[]>((resolve, reject) =>
        setTimeout(() => {
          inFlight--;
          if (host.startsWith('ok')) resolve(['127.0.0.1']);
          else reject(Object.assign(new Error('no answer'), { code: 'EAI_AGAIN' }));
        }, 20),
      );
    };
    const rt = runtime({ resolver: { lookup, timeoutMs: 1000 } });
    const names = (prefix: string) =>
      Array.from({ length: 20 }, (_, i) => server(`s${i}`, up.port, { address: `${prefix}${i}.test` }));
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', names('ok'))]));
    expect(lookups.length).toBe(20);
    expect(most).toBe(2);
    expect(await readLine(await client(port))).toBe('up');

    lookups.length = 0;
    const error = await refusal(
      rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', names('down'))])),
    );
    expect(error).toMatchObject({ code: 'INVALID_SNAPSHOT', cause_code: 'EAI_AGAIN' });
    // The two in flight when the first failed, and no more.
    expect(lookups.length).toBe(2);
    expect(most).toBe(2);
  });

  it('at boot, serves what it can: a name that does not resolve leaves its server DOWN until it does', async () => {
    const [up] = await servers('up');
    const dns = fakeDns({ 'ok.test': '127.0.0.1' });
    const port = await freePort();
    const rt = runtime({ resolver: { lookup: dns.lookup, intervalMs: 30, timeoutMs: 200 } });
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [
          backend('be', [
            server('late', up.port, { address: 'late.test' }),
            server('ok', up.port, { address: 'ok.test' }),
          ]),
        ],
      ),
      { tolerateUnresolvedNames: true },
    );
    expect(await serverStats(rt, 'late')).toMatchObject({
      health: 'DOWN',
      resolved: '',
      check_desc: 'DNS: name no longer resolves (ENOTFOUND)',
    });
    expect(await readLine(await client(port))).toBe('up');
    dns.answers['late.test'] = '127.0.0.1';
    await waitFor(async () => (await serverStats(rt, 'late')).health === 'UP', 5000, 'late UP');
    expect(await serverStats(rt, 'late')).toMatchObject({ resolved: '127.0.0.1', check_desc: '' });
  });
});
