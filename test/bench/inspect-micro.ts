// In-process micro cost of CMPP inspection (issue 11 point 7): a tight loop feeding recorded chunks of
// 16 SUBMITs (up) and their 16 SUBMIT_RESPs (down) — the busy shape, 16 in flight — through the
// CmppInspections of 100 sessions, as the relay does. Prints ns per message (one SUBMIT + its SUBMIT_RESP); run it with
// `node --cpu-prof` to see where the time goes. Knobs: BENCH_MICRO_CHUNKS (200000), BENCH_MICRO_ROUNDS (7),
// BENCH_MICRO_PER_READ (16: frames per read; 1, 2, 4 or 8 cut each window into that many frames per feed),
// BENCH_MICRO_LATENCY_MS (3: the SUBMIT -> SUBMIT_RESP latency the answers see).
// The latency clock (performance.now()) is read once per read carrying a SUBMIT or SUBMIT_RESP, as in the relay.
import { encodeConnect, encodeConnectResp, encodeSubmit, encodeSubmitResp } from '../../src/cmpp/codec.js';
import type { ServerRuntime } from '../../src/runtime/backend.js';
import { CmppAccounts, CmppCounters } from '../../src/runtime/cmpp-stats.js';
import { CmppInspection, type InspectedSession } from '../../src/runtime/cmpp-inspect.js';

const IN_FLIGHT = 16;
const CHUNKS = Number(process.env.BENCH_MICRO_CHUNKS) || 200_000;
const ROUNDS = Number(process.env.BENCH_MICRO_ROUNDS) || 7;
const PER_READ = Number(process.env.BENCH_MICRO_PER_READ) || IN_FLIGHT;
/**
 * The SUBMIT -> SUBMIT_RESP latency the answers see (ms): each window's send times are moved back by it. 3 ms, the
 * bench's median at 100 × 16, so the latency histogram's bucket search costs what it costs in the relay (the
 * micro's own answers follow in microseconds).
 */
const LATENCY_MS = Number(process.env.BENCH_MICRO_LATENCY_MS ?? 3);
if (IN_FLIGHT % PER_READ !== 0) throw new Error(`BENCH_MICRO_PER_READ must divide ${IN_FLIGHT}`);

/** `count` windows of IN_FLIGHT consecutive sequence ids each, as the load client numbers them. */
function chunks(count: number, make: (sequenceId: number) => Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let w = 0; w < count; w++) {
    const frames: Buffer[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) frames.push(make(w * IN_FLIGHT + i + 1));
    out.push(Buffer.concat(frames));
  }
  return out;
}

const WINDOWS = 64;
const ups = chunks(WINDOWS, (sequenceId) =>
  encodeSubmit({
    sequenceId,
    version: '3.0',
    account: 'sp0001',
    srcId: '10690001',
    recipients: ['13800138000'],
    content: Buffer.from('bench message 0123456789'),
  }),
);
const downs = chunks(WINDOWS, (sequenceId) =>
  encodeSubmitResp({ sequenceId, msgId: new Uint8Array(8), result: 0, version: '3.0' }),
);
/**
 * The relay reads every chunk into one static buffer (session.ts) and feeds inspection that buffer, so scan() keeps
 * one DataView for it (cmpp-inspect.ts, viewOf). Each window is copied there before it is fed, as a read would be.
 */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

const SESSIONS = Number(process.env.BENCH_MICRO_SESSIONS) || 100;
const frontend = new CmppCounters();
const accounts = new CmppAccounts();
const server = { cmpp: undefined } as unknown as ServerRuntime;
const connect = encodeConnect({
  sequenceId: 1,
  account: 'sp0001',
  secret: 'x',
  timestamp: 101120000,
  version: '3.0',
});
const connectResp = encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' });
/** SESSIONS sessions of one frontend and server, as the bench's connections (their state spread over memory). */
const sessions = Array.from({ length: SESSIONS }, () => {
  const session: InspectedSession = { inspection: null, account: undefined, server, electAfterAccount() {} };
  const ins = new CmppInspection(session, frontend, accounts, false);
  session.inspection = ins;
  ins.feedUp(connect, 0, connect.length);
  ins.feedDown(connectResp, 0, connectResp.length);
  return ins;
});

/** Bytes per read: every frame of a direction has the same length. */
const upRead = (ups[0].length / IN_FLIGHT) * PER_READ;
const downRead = (downs[0].length / IN_FLIGHT) * PER_READ;

/** Moves every outstanding request's send time (OutstandingTable: key, count, send time per 4 numbers) back. */
function age(slots: Float64Array): void {
  for (let at = 0; at < slots.length; at += 4) if (slots[at] !== -1) slots[at + 2] -= LATENCY_MS;
}

function run(n: number): number {
  // CPU time, not wall time: the machine is shared, and a descheduled loop costs no CPU.
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const up = ups[i % WINDOWS];
    const down = downs[i % WINDOWS];
    const ins = sessions[i % SESSIONS];
    for (let at = 0; at < up.length; at += upRead) {
      up.copy(readBuffer, 0, at, at + upRead);
      ins.feedUp(readBuffer, 0, upRead);
    }
    if (LATENCY_MS !== 0) age(ins.clientRequests.slots);
    for (let at = 0; at < down.length; at += downRead) {
      down.copy(readBuffer, 0, at, at + downRead);
      ins.feedDown(readBuffer, 0, downRead);
    }
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / (n * IN_FLIGHT);
}

run(CHUNKS / 10); // warm up
const results: number[] = [];
for (let r = 0; r < ROUNDS; r++) results.push(run(CHUNKS));
results.sort((a, b) => a - b);
// What a stats read does first: each session's own counts into the shared counters.
for (const ins of sessions) ins.fold();
const submits = frontend.up[2];
if (
  submits === 0 ||
  frontend.submitOk !== submits ||
  frontend.latency.reduce((a, b) => a + b, 0) !== submits ||
  sessions.some((ins) => ins.clientRequests.total !== 0)
)
  throw new Error(
    `inspection miscounted: ${submits} SUBMITs, ${frontend.submitOk} ok, ${frontend.latency.reduce((a, b) => a + b, 0)} latency samples`,
  );
console.log(
  `inspect micro: ${results[results.length >> 1].toFixed(1)} ns CPU/message median ` +
    `(min ${results[0].toFixed(1)}, max ${results[results.length - 1].toFixed(1)}; ${SESSIONS} sessions, ${ROUNDS} rounds × ${CHUNKS} chunk pairs of ${IN_FLIGHT}, ${PER_READ} per read)`,
);
