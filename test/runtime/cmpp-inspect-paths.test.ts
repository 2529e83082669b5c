// The inspection's two ways of counting (cmpp-inspect.ts): scan() counts the whole frames of the busy commands
// itself, the frame reader and onFrame() count everything else (frames cut by a read's end, other commands).
// Both must count the same: the same conversation, each event fed as one read, cut at random points or byte by
// byte (every frame then passes through the reader), gives the same counters, and they match a plain count of
// the frames sent.
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { encodeConnect } from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import {
  CmppInspection,
  type InspectedSession,
  latencyBucketBySearch,
} from '../../src/runtime/cmpp-inspect.js';
import {
  CmppAccounts,
  CmppCounters,
  commandSlot,
  DOWN_OFFSET,
  LATENCY_BOUNDS_MS,
  latencyBucket,
} from '../../src/runtime/cmpp-stats.js';

/** Few sequence ids, so requests repeat, answers find them and probes collide (0 and 64 share a home slot). */
const sequenceId = fc.constantFrom(0, 1, 2, 3, 64, 65, 127, 0x7fffffff, 0x80000000, 0xffffffff);

/** Many ids: a session with more than 48 distinct ids outstanding one way leaves the rest untracked. */
const manyIds = fc.integer({ min: 1000, max: 1100 });

const plain = (command: number, length: number, ids: fc.Arbitrary<number> = sequenceId) =>
  fc.record({ seq: ids, fill: fc.integer({ min: 0, max: 255 }) }).map(({ seq, fill }) => {
    const b = Buffer.alloc(length, fill);
    b.writeUInt32BE(length, 0);
    b.writeUInt32BE(command, 4);
    b.writeUInt32BE(seq, 8);
    return b;
  });

/** SUBMIT_RESP 3.0 (24 bytes) or 2.0 (21), Result 0, 8 (throttled) or others, or a length of neither. */
const submitResp = fc
  .record({
    seq: sequenceId,
    length: fc.constantFrom(24, 24, 21, 30),
    result: fc.constantFrom(0, 0, 8, 13, 0x108, 0x01000000),
  })
  .map(({ seq, length, result }) => {
    const b = Buffer.alloc(length);
    b.writeUInt32BE(length, 0);
    b.writeUInt32BE(CommandId.SUBMIT_RESP, 4);
    b.writeUInt32BE(seq, 8);
    if (length === 24) b.writeUInt32BE(result >>> 0, 20);
    else if (length === 21) b[20] = result & 0xff;
    return b;
  });

const connect = fc
  .record({ seq: sequenceId, account: fc.constantFrom('900001', '900002') })
  .map(({ seq, account }) =>
    encodeConnect({ sequenceId: seq, account, secret: 's', timestamp: 1010101010, version: '3.0' }),
  );

/** Frames of the busy commands (scan()'s), and of others (the reader's); SUBMITs of any length. */
const frame = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 12, max: 200 }).chain((n) => plain(CommandId.SUBMIT, n)) },
  { weight: 2, arbitrary: plain(CommandId.SUBMIT, 30, manyIds) },
  { weight: 4, arbitrary: submitResp },
  { weight: 1, arbitrary: plain(CommandId.DELIVER, 40) },
  { weight: 1, arbitrary: plain(CommandId.DELIVER_RESP, 21) },
  { weight: 1, arbitrary: plain(CommandId.ACTIVE_TEST, 12) },
  { weight: 1, arbitrary: plain(CommandId.ACTIVE_TEST_RESP, 13) },
  { weight: 1, arbitrary: plain(CommandId.TERMINATE, 12) },
  { weight: 1, arbitrary: plain(CommandId.QUERY, 39) },
  { weight: 1, arbitrary: plain(0x00000010, 20) },
  { weight: 1, arbitrary: connect },
);

/** One side's write: frames in one direction, passing before the next event. */
const event = fc.record({ up: fc.boolean(), frames: fc.array(frame, { minLength: 1, maxLength: 20 }) });

type Feeding = 'whole' | 'cut' | 'bytes';

function run(events: Array<{ up: boolean; frames: Buffer[] }>, feeding: Feeding, cuts: number[]) {
  const session: InspectedSession = {
    inspection: null,
    account: undefined,
    server: null,
    electAfterAccount() {},
  };
  const frontend = new CmppCounters();
  const accounts = new CmppAccounts();
  const ins = new CmppInspection(session, frontend, accounts, false);
  session.inspection = ins;
  let c = 0;
  for (const { up, frames } of events) {
    const bytes = Buffer.concat(frames);
    const reads: Buffer[] = [];
    if (feeding === 'whole') reads.push(bytes);
    else
      for (let at = 0; at < bytes.length;) {
        const n = feeding === 'bytes' ? 1 : cuts[c++ % cuts.length];
        // Each read its own buffer, as a socket's.
        reads.push(Buffer.from(bytes.subarray(at, at + n)));
        at += n;
      }
    for (const read of reads) (up ? ins.feedUp : ins.feedDown).call(ins, read, 0, read.length);
  }
  ins.fold();
  const latencySamples = frontend.latency.reduce((a, b) => a + b, 0);
  const counted = (c: CmppCounters) => ({
    frames: Array.from(c.frames),
    results: [c.submitOk, c.submitThrottled, c.submitOther],
    connectStatus: Array.from(c.connectStatus),
    untracked: c.untracked,
    sessions: c.sessions,
  });
  return {
    frontend: counted(frontend),
    // lastConnectAt: the wall clock of each run's CONNECT.
    accounts: accounts
      .view(new Map())
      .map((row) => ({ ...row, latency: undefined, lastConnectAt: undefined })),
    latencySamples,
    outstanding: ins.outstanding(),
  };
}

it('scan() and the reader count the same, and what was sent', () => {
  fc.assert(
    fc.property(
      fc.array(event, { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 50 }),
      (events, cuts) => {
        const whole = run(events, 'whole', cuts);
        expect(run(events, 'cut', cuts)).toEqual(whole);
        expect(run(events, 'bytes', cuts)).toEqual(whole);
        // Every frame counted under its command and direction (all lengths here are CMPP's).
        const frames = new Array<number>(2 * DOWN_OFFSET).fill(0);
        for (const { up, frames: sent } of events)
          for (const f of sent) frames[commandSlot(f.readUInt32BE(4)) + (up ? 0 : DOWN_OFFSET)]++;
        expect(whole.frontend.frames).toEqual(frames);
      },
    ),
    { numRuns: 300 },
  );
});

it('counts SUBMIT results by the Result field, and each answered SUBMIT once in the latency histogram', () => {
  const ev = (up: boolean, ...frames: Buffer[]) => ({ up, frames });
  const submit = (seq: number) => {
    const b = Buffer.alloc(30);
    b.writeUInt32BE(30, 0);
    b.writeUInt32BE(CommandId.SUBMIT, 4);
    b.writeUInt32BE(seq, 8);
    return b;
  };
  const resp = (seq: number, result: number, length = 24) => {
    const b = Buffer.alloc(length);
    b.writeUInt32BE(length, 0);
    b.writeUInt32BE(CommandId.SUBMIT_RESP, 4);
    b.writeUInt32BE(seq, 8);
    if (length === 24) b.writeUInt32BE(result, 20);
    else b[20] = result;
    return b;
  };
  for (const feeding of ['whole', 'cut', 'bytes'] as const) {
    const counted = run(
      [
        ev(true, submit(1), submit(2), submit(3), submit(3), submit(0xffffffff)),
        // 0 ok; 8 throttled; 0x108 and 0x01000000 other (only the low byte is 0 or 8); 2.0's one-byte Result.
        ev(false, resp(1, 0), resp(2, 8), resp(3, 0x108), resp(3, 0x01000000), resp(0xffffffff, 8, 21)),
        // An answer to nothing: counted as a result, no latency.
        ev(false, resp(7, 0)),
      ],
      feeding,
      [5, 7, 11],
    );
    expect(counted.frontend.results).toEqual([2, 2, 2]);
    expect(counted.latencySamples).toBe(5);
    expect(counted.outstanding).toEqual({ up: 0, down: 0 });
  }
});

it('tracks at most 48 distinct ids one way, counting the rest as untracked, whichever way it counts', () => {
  const submits = Array.from({ length: 50 }, (_, i) => {
    const b = Buffer.alloc(30);
    b.writeUInt32BE(30, 0);
    b.writeUInt32BE(CommandId.SUBMIT, 4);
    b.writeUInt32BE(5000 + i, 8);
    return b;
  });
  for (const feeding of ['whole', 'cut', 'bytes'] as const) {
    const counted = run([{ up: true, frames: submits }], feeding, [13, 29]);
    expect(counted.frontend.untracked).toBe(2);
    expect(counted.outstanding).toEqual({ up: 48, down: 0 });
  }
});

/** A new inspection of a frontend that inspects, past its election (the relay's busy case). */
function inspection(): { ins: CmppInspection; frontend: CmppCounters } {
  const session: InspectedSession = {
    inspection: null,
    account: undefined,
    server: null,
    electAfterAccount() {},
  };
  const frontend = new CmppCounters();
  const ins = new CmppInspection(session, frontend, new CmppAccounts(), false);
  session.inspection = ins;
  return { ins, frontend };
}

/** A frame of `length` bytes (zeros after the header). */
function zeroFrame(command: number, length: number, seq: number): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(command, 4);
  b.writeUInt32BE(seq, 8);
  return b;
}

it('puts each SUBMIT -> SUBMIT_RESP latency in the bucket latencyBucket() names, whichever way it counts', () => {
  // One latency in each of 11 buckets, low to beyond the last bound.
  const latencies = [0.05, 0.2, 0.4, 1.5, 4, 12, 40, 400, 4000, 45_000, 120_000];
  expect(new Set(latencies.map(latencyBucket)).size).toBe(latencies.length);
  const submit = (seq: number) => zeroFrame(CommandId.SUBMIT, 30, seq);
  const resp = (seq: number) => zeroFrame(CommandId.SUBMIT_RESP, 24, seq);
  // Whole reads (scan()) and byte by byte (the reader and onFrame).
  for (const byBytes of [false, true]) {
    const { ins, frontend } = inspection();
    const feed = (up: boolean, bytes: Buffer) => {
      const reads = byBytes ? Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)) : [bytes];
      for (const read of reads) (up ? ins.feedUp : ins.feedDown).call(ins, read, 0, read.length);
    };
    latencies.forEach((ms, i) => {
      feed(true, submit(i + 1));
      const slot = ins.clientRequests.find(CommandId.SUBMIT & 0xff, i + 1);
      expect(slot).toBeGreaterThanOrEqual(0);
      const before = Array.from(frontend.latency);
      const sentAt = performance.now();
      ins.clientRequests.setSentAt(slot, sentAt - ms);
      feed(false, resp(i + 1));
      // The answer's clock was read between sentAt and now: the latency counted is ms plus at most that much
      // (a pause of this machine may move a short one up a bucket, never down and never past it).
      const slack = performance.now() - sentAt;
      ins.fold();
      const added = Array.from(frontend.latency, (n, b) => n - before[b]);
      const bucket = added.indexOf(1);
      expect(added.filter((n) => n !== 0)).toEqual([1]);
      expect(bucket).toBeGreaterThanOrEqual(latencyBucket(ms));
      expect(bucket).toBeLessThanOrEqual(latencyBucket(ms + slack));
    });
  }
});

it('finds the latency bucket by binary search exactly as latencyBucket() does', () => {
  const edges = LATENCY_BOUNDS_MS.flatMap((b) => [b, b - 1e-9, b + 1e-9, b * (1 + Number.EPSILON)]);
  for (const ms of [...edges, 0, -1, NaN, Infinity, -Infinity, 1e12, Number.MIN_VALUE])
    expect(latencyBucketBySearch(ms), String(ms)).toBe(latencyBucket(ms));
  fc.assert(
    fc.property(fc.double({ min: -1, max: 200_000, noNaN: true }), (ms) => {
      expect(latencyBucketBySearch(ms)).toBe(latencyBucket(ms));
    }),
    { numRuns: 2000 },
  );
});

it('counts each answer of one read under its own SUBMIT send time, however the send times interleave', () => {
  // SUBMITs sent at different times, answered in one read in mixed order: the answers of a run with one send time
  // share a bucket (scanAnswers), and a change of send time starts a new run. Latencies in the middle of wide
  // buckets, so the milliseconds the test itself takes can't move one.
  const ages = [12, 400, 12, 4000, 40, 400, 12, 12, 4000];
  for (let attempt = 0; attempt < 3; attempt++) {
    const { ins, frontend } = inspection();
    const submits = Buffer.concat(ages.map((_, i) => zeroFrame(CommandId.SUBMIT, 30, i + 1)));
    ins.feedUp(submits, 0, submits.length);
    const start = performance.now();
    ages.forEach((ms, i) => {
      const slot = ins.clientRequests.find(CommandId.SUBMIT & 0xff, i + 1);
      ins.clientRequests.setSentAt(slot, start - ms);
    });
    const answers = Buffer.concat(ages.map((_, i) => zeroFrame(CommandId.SUBMIT_RESP, 24, i + 1)));
    ins.feedDown(answers, 0, answers.length);
    const slack = performance.now() - start;
    ins.fold();
    // A pause of this machine longer than a bucket's margin: try again.
    if (ages.some((ms) => latencyBucket(ms) !== latencyBucket(ms + slack))) continue;
    const expected = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    for (const ms of ages) expected[latencyBucket(ms)]++;
    expect(Array.from(frontend.latency)).toEqual(expected);
    expect(frontend.latencySumMs).toBeGreaterThanOrEqual(ages.reduce((a, b) => a + b, 0));
    return;
  }
  throw new Error('three attempts each paused longer than a latency bucket margin');
});
