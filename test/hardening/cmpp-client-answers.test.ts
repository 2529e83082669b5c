// A client (SP) must not make its gateway look throttled or its session logged in (issue 11, found by the attack of
// session 7). SUBMIT_RESP and CONNECT_RESP are the gateway's answers; an SP never sends either. Inspection counts a
// SUBMIT_RESP's Result (submitResults, latency) and a CONNECT_RESP's status (connectStatus, the session's `loggedIn`,
// which the CMPP close trusts) for the server -> client direction only; a client's count as frames (`up`).
// Before the fix, 1,000 client SUBMIT_RESPs with Result 8 showed as `throttled: 1000` with `down.submitResp: 0`, and
// a client's CONNECT_RESP status 0 showed as the gateway letting the account in.
import { expect, it } from 'vitest';
import { encodeConnect, encodeConnectResp, encodeSubmitResp } from '../../src/cmpp/codec.js';
import { CmppInspection, type InspectedSession } from '../../src/runtime/cmpp-inspect.js';
import { CmppAccounts, CmppCounters } from '../../src/runtime/cmpp-stats.js';

function inspection() {
  const session: InspectedSession = {
    inspection: null,
    account: undefined,
    server: null,
    electAfterAccount: () => {},
  };
  const frontend = new CmppCounters();
  const ins = new CmppInspection(session, frontend, new CmppAccounts(), false);
  session.inspection = ins;
  return { ins, frontend };
}

const connect = encodeConnect({
  sequenceId: 1,
  account: '900001',
  secret: 's',
  timestamp: 1205143000,
  version: '3.0',
});
const fakeThrottled = Buffer.concat(
  Array.from({ length: 1000 }, (_, i) =>
    encodeSubmitResp({ sequenceId: i, msgId: Buffer.alloc(8), result: 8, version: '3.0' }),
  ),
);

it('SUBMIT_RESPs sent by the client do not count as the gateway throttling, whichever way they are read', () => {
  // In one read (scan()) and byte by byte (the frame reader and onFrame).
  for (const byBytes of [false, true]) {
    const { ins, frontend } = inspection();
    ins.feedUp(connect, 0, connect.length);
    if (!byBytes) ins.feedUp(fakeThrottled, 0, fakeThrottled.length);
    else for (let at = 0; at < fakeThrottled.length; at++) ins.feedUp(fakeThrottled, at, 1);
    ins.fold();
    expect(frontend.up[3]).toBe(1000); // counted as frames: up.submitResp
    expect(frontend.submitThrottled).toBe(0);
    expect(frontend.latency.reduce((a, b) => a + b, 0)).toBe(0);
    expect(ins.account?.submitThrottled ?? 0).toBe(0);
  }
});

it('(the same answers sent by the server do count)', () => {
  const { ins, frontend } = inspection();
  ins.feedUp(connect, 0, connect.length);
  ins.feedDown(fakeThrottled, 0, fakeThrottled.length);
  ins.fold();
  expect(frontend.submitThrottled).toBe(1000);
});

it('a CONNECT_RESP sent by the client does not count as a login status', () => {
  const { ins, frontend } = inspection();
  const forged = encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' });
  ins.feedUp(connect, 0, connect.length);
  ins.feedUp(forged, 0, forged.length);
  ins.fold();
  expect(frontend.up[1]).toBe(1); // counted as a frame: up.connectResp
  expect(frontend.connectStatus[0]).toBe(0);
  expect(ins.loggedIn).toBe(false);
});
