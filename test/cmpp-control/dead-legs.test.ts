// Dead legs of inspected CMPP sessions (issue 12 point 4): when the client leg dies without TERMINATE (reset,
// FIN, idle timeout) the gateway gets a TERMINATE at once and the requests in flight are counted as ambiguous;
// when the server leg dies the client gets a TERMINATE. Real sockets, both relay paths (private internals and
// the public fallbacks).
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { TETHER_SEQUENCE_ID } from '../../src/runtime/cmpp-close.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { backend, closed, freePort, frontend, server, snapshot, waitFor } from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ACCOUNT = '900001';

async function setup(
  nodeInternals: boolean,
  options: {
    inspect?: 'cmpp' | 'none';
    defaults?: Partial<Snapshot['defaults']>;
    sweepIntervalMs?: number;
  } = {},
) {
  const gateway = await cmppGateway();
  cleanups.push(() => gateway.close());
  const port = await freePort();
  const rt = new ProxyRuntime({ nodeInternals, sweepIntervalMs: options.sweepIntervalMs });
  cleanups.push(() => rt.close());
  await rt.apply(
    snapshot(
      [frontend('sms', port, 'gw', { inspect: options.inspect ?? 'cmpp' })],
      [backend('gw', [server('gw1', gateway.port)])],
      options.defaults,
    ),
  );
  const sp = await Sp.connect(port);
  cleanups.push(() => sp.close());
  expect((await sp.login(ACCOUNT)).commandId).toBe(CommandId.CONNECT_RESP);
  return { gateway, rt, sp };
}

/** Three SUBMITs the gateway has received and not answered. */
async function inFlight(gateway: Gateway, sp: Sp): Promise<void> {
  gateway.hold = true;
  sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(100 + seq, ACCOUNT))));
  await waitFor(() => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === 3);
}

const terminatesAt = (gateway: Gateway) =>
  gateway.received.filter((f) => f.commandId === CommandId.TERMINATE && f.sequenceId === TETHER_SEQUENCE_ID);

async function ambiguous(rt: ProxyRuntime) {
  const stats = await rt.stats();
  return {
    frontend: stats.frontends[0].cmpp!.ambiguous,
    server: stats.backends[0].servers[0].cmpp!.ambiguous,
    account: stats.cmppAccounts!.find((a) => a.account === ACCOUNT)!.ambiguous,
  };
}

for (const nodeInternals of [true, false]) {
  describe(`dead legs (${nodeInternals ? 'private' : 'public'} relay paths)`, () => {
    it('client reset: the gateway gets TERMINATE at once, the SUBMITs in flight are ambiguous', async () => {
      const { gateway, rt, sp } = await setup(nodeInternals);
      await inFlight(gateway, sp);
      const resetAt = Date.now();
      sp.socket.resetAndDestroy();
      await waitFor(() => terminatesAt(gateway).length === 1, 3000, 'TERMINATE at the gateway');
      // "At once": well inside the spec's minutes; the bound is generous for a loaded machine.
      expect(Date.now() - resetAt).toBeLessThan(1500);
      // The gateway answers TERMINATE_RESP and closes: the session ends.
      await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
      expect(await ambiguous(rt)).toEqual({ frontend: 3, server: 3, account: 3 });
      // Tether resent nothing.
      expect(gateway.received.filter((f) => f.commandId === CommandId.SUBMIT)).toHaveLength(3);
    });

    it('client FIN without TERMINATE: TERMINATE to the gateway, answers still owed reach the client', async () => {
      const { gateway, rt, sp } = await setup(nodeInternals);
      await inFlight(gateway, sp);
      sp.socket.end();
      await waitFor(() => terminatesAt(gateway).length === 1, 3000, 'TERMINATE at the gateway');
      // The gateway answers what it owes before the TERMINATE_RESP; the half-closed client still reads them.
      gateway.release();
      const answers = await sp.next(3);
      expect(answers.map((f) => f.commandId)).toEqual(Array(3).fill(CommandId.SUBMIT_RESP));
      await closed(sp.socket);
      await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
      expect(await ambiguous(rt)).toEqual({ frontend: 0, server: 0, account: 0 });
    });

    it('idle timeout: the idle client is cut and the gateway gets TERMINATE', async () => {
      const { gateway, rt, sp } = await setup(nodeInternals, {
        defaults: { timeouts: { connect: 5000, client: 300, server: 3_600_000, check: 5000 } },
        sweepIntervalMs: 50,
      });
      await waitFor(() => terminatesAt(gateway).length === 1, 5000, 'TERMINATE at the gateway');
      await closed(sp.socket);
      await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
    });

    it('server reset: the client gets TERMINATE, then the close', async () => {
      const { gateway, rt, sp } = await setup(nodeInternals);
      await inFlight(gateway, sp);
      const [gatewaySide] = gateway.accepted as Socket[];
      gatewaySide.resetAndDestroy();
      const [terminate] = await sp.next(1);
      expect(terminate).toMatchObject({ commandId: CommandId.TERMINATE, sequenceId: TETHER_SEQUENCE_ID });
      expect(terminate.bytes).toHaveLength(12);
      await closed(sp.socket);
      await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
      expect(await ambiguous(rt)).toEqual({ frontend: 3, server: 3, account: 3 });
    });

    it('server FIN without TERMINATE: the client gets TERMINATE', async () => {
      const { gateway, sp } = await setup(nodeInternals);
      (gateway.accepted[0] as Socket).end();
      const [terminate] = await sp.next(1);
      expect(terminate).toMatchObject({ commandId: CommandId.TERMINATE, sequenceId: TETHER_SEQUENCE_ID });
      await closed(sp.socket);
    });

    it('a refused connect before the session is established is no dead leg: the retry goes to the next server', async () => {
      const gateway = await cmppGateway();
      cleanups.push(() => gateway.close());
      const refusing = await freePort(); // nothing listens there
      const port = await freePort();
      const rt = new ProxyRuntime({ nodeInternals });
      cleanups.push(() => rt.close());
      await rt.apply(
        snapshot(
          [frontend('sms', port, 'gw', { inspect: 'cmpp' })],
          [backend('gw', [server('gw1', refusing), server('gw2', gateway.port)], { balance: 'first' })],
        ),
      );
      const sp = await Sp.connect(port);
      cleanups.push(() => sp.close());
      expect((await sp.login(ACCOUNT)).commandId).toBe(CommandId.CONNECT_RESP);
      const [live] = await rt.sessions();
      expect(live).toMatchObject({ server: 'gw2', state: 'established', account: ACCOUNT });
      const gw1 = (await rt.stats()).backends[0].servers[0];
      expect(gw1).toMatchObject({ econ: 1, wredis: 1 });
      expect(terminatesAt(gateway)).toHaveLength(0);
    });

    it('a session that ends with TERMINATE is left alone; uninspected sessions are only cut', async () => {
      const { gateway, rt, sp } = await setup(nodeInternals);
      expect((await sp.terminate(9)).commandId).toBe(CommandId.TERMINATE_RESP);
      await closed(sp.socket);
      await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
      expect(terminatesAt(gateway)).toHaveLength(0);

      const plain = await setup(nodeInternals, { inspect: 'none' });
      plain.sp.socket.resetAndDestroy();
      await waitFor(async () => (await plain.rt.sessions()).length === 0, 3000, 'session gone');
      expect(terminatesAt(plain.gateway)).toHaveLength(0);
    });
  });
}
