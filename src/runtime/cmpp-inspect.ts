// CMPP inspection of one relayed session (docs/cmpp-inspection.md): the relay hands every chunk it forwards,
// each direction, to a CmppFrameReader, and the two shared sinks below count the frames into the counters of
// the session's frontend, server and SP account. Nothing here writes, holds or copies the relayed bytes.
//
// Per session: two readers, two fixed tables of outstanding requests (OutstandingTable), a few numbers.
// Per frame: a table read, a few adds, one table probe; the clock is read at most once per chunk, and only
// for chunks carrying a SUBMIT or SUBMIT_RESP (latency).
//
// The same machinery, without counting, reads the account for `balance: cmpp-account` (the CONNECT may
// arrive split over several reads): after the first frame the session elects its server and, when its
// frontend doesn't inspect, drops its inspection.
import { performance } from 'node:perf_hooks';
import { BODY_PREFIX, readConnectAccount, readConnectRespStatus, readConnectVersion } from '../cmpp/codec.js';
import { CommandId, formatVersionByte, Length, RESULT_THROTTLED } from '../cmpp/commands.js';
import { CmppFrameReader, type FrameSink } from '../cmpp/frame-reader.js';
import type { ServerRuntime } from './backend.js';
import {
  type CmppAccounts,
  CmppCounters,
  commandSlot,
  DOWN_OFFSET,
  LATENCY_BOUNDS_MS,
  type Outstanding,
  SLOT_BY_ID,
  TALLY_LATENCY,
  TALLY_LATENCY_SUM,
  TALLY_LENGTH,
  TALLY_SUBMIT_OK,
  TALLY_SUBMIT_OTHER,
  TALLY_SUBMIT_THROTTLED,
  TALLY_UNTRACKED,
} from './cmpp-stats.js';
import type { FrontendRuntime } from './frontend.js';

/** What an inspection needs of its session (session.ts implements it). */
export interface InspectedSession {
  inspection: CmppInspection | null;
  account: string | undefined;
  server: ServerRuntime | null;
  /** cmpp-account: the first frame (or the proof there is none) has passed; elect now. */
  electAfterAccount(account: string | undefined): void;
}

/** Response ids as the frame reader hands them over: signed 32-bit (negative), never boxed. */
const CONNECT_RESP = CommandId.CONNECT_RESP | 0;
const SUBMIT_RESP = CommandId.SUBMIT_RESP | 0;

/** Requests that carry no message (the table keys commands by their low byte). */
const CONTROL_CONNECT = CommandId.CONNECT & 0xff;
const CONTROL_TERMINATE = CommandId.TERMINATE & 0xff;
const CONTROL_ACTIVE_TEST = CommandId.ACTIVE_TEST & 0xff;

/** Slots per table: a window is 16 requests (some clients 32); ids beyond TABLE_MAX_USED are not tracked. */
const TABLE_SIZE = 64;
const TABLE_MASK = TABLE_SIZE - 1;
const TABLE_MAX_USED = 48;
const EMPTY = -1;
/**
 * A slot's numbers: key (at 0), count, send time; the fourth is unused, so a slot is 32 bytes (half a cache line).
 * The home slot is not stored: homeOfKey() works it out again for the rare deletion that must shift entries.
 */
const SLOT = 4;
const COUNT = 1;
const SENT_AT = 2;
/** addSlot(): the key was already outstanding; the table was full. */
const REPEAT = -2;
const UNTRACKED = -1;

/**
 * Where a key's probe starts: its sequence id modulo the table size. Clients number requests consecutively, so a
 * window of them sits in adjacent slots (a few cache lines, no collisions); ids that do collide cost a longer probe,
 * never more than TABLE_MAX_USED slots.
 */
function homeSlot(command: number, sequenceId: number): number {
  return (sequenceId + command) & TABLE_MASK;
}

/** homeSlot() of a stored key (command * 2^32 + unsigned Sequence_Id): `& TABLE_MASK` keeps the low bits. */
function homeOfKey(key: number): number {
  return homeSlot(Math.floor(key / 4294967296), key % 4294967296);
}

/**
 * Requests of one direction awaiting their answer, keyed by command and Sequence_Id, counted per key
 * (ids may repeat while in flight) with the send time of the oldest. Open addressing, linear probing,
 * backward-shift deletion: fixed memory, nothing allocated per request. One slot is four numbers side by
 * side in one array (key, count, send time), so a probe reads one cache line, not three arrays.
 */
export class OutstandingTable {
  // Not private: scan() below works on them directly (see there why).
  readonly slots = new Float64Array(TABLE_SIZE * SLOT).fill(EMPTY);
  used = 0;
  /** Entries not in their home slot. While there are none (consecutive ids), a deletion shifts nothing. */
  displaced = 0;
  /** Requests awaiting an answer, repeats of one id counted each. */
  total = 0;

  /**
   * Records a request (sequenceId signed or unsigned): the slot of a new key, whose send time the caller sets
   * (sentAt), REPEAT when the key was already outstanding (its oldest send time stays), UNTRACKED when the table is
   * full. Slots, not times, cross the call: a double returned or passed by a call V8 doesn't inline is boxed.
   */
  addSlot(command: number, sequenceId: number): number {
    const slots = this.slots;
    const key = command * 4294967296 + (sequenceId >>> 0);
    const home = homeSlot(command, sequenceId);
    let i = home;
    for (;;) {
      const k = slots[i * SLOT];
      if (k === key) {
        slots[i * SLOT + COUNT]++;
        this.total++;
        return REPEAT;
      }
      if (k === EMPTY) break;
      i = (i + 1) & TABLE_MASK;
    }
    if (this.used >= TABLE_MAX_USED) return UNTRACKED;
    const at = i * SLOT;
    slots[at] = key;
    slots[at + COUNT] = 1;
    slots[at + SENT_AT] = 0;
    if (i !== home) this.displaced++;
    this.used++;
    this.total++;
    return i;
  }

  /**
   * Requests awaiting an answer that carry messages: all but CONNECT, TERMINATE and ACTIVE_TEST (a scan of the
   * fixed table, only when a session ends with requests in flight). What a close leaves *ambiguous*.
   */
  messages(): number {
    if (this.total === 0) return 0;
    const slots = this.slots;
    let n = 0;
    for (let at = 0; at < slots.length; at += SLOT) {
      const key = slots[at];
      if (key === EMPTY) continue;
      const command = Math.floor(key / 4294967296);
      if (command !== CONTROL_CONNECT && command !== CONTROL_TERMINATE && command !== CONTROL_ACTIVE_TEST)
        n += slots[at + COUNT];
    }
    return n;
  }

  /** The slot of a request awaiting this answer, or -1; release() forgets it once its send time was read. */
  find(command: number, sequenceId: number): number {
    const slots = this.slots;
    const key = command * 4294967296 + (sequenceId >>> 0);
    let i = homeSlot(command, sequenceId);
    for (;;) {
      const k = slots[i * SLOT];
      if (k === EMPTY) return -1;
      if (k === key) return i;
      i = (i + 1) & TABLE_MASK;
    }
  }

  /** The (oldest) send time of the requests in `slot`. */
  sentAt(slot: number): number {
    return this.slots[slot * SLOT + SENT_AT];
  }

  setSentAt(slot: number, now: number): void {
    this.slots[slot * SLOT + SENT_AT] = now;
  }

  /** Forgets one request of the key in `slot` (from find()). */
  release(slot: number): void {
    this.total--;
    if (--this.slots[slot * SLOT + COUNT] === 0) this.remove(slot);
  }

  /** addSlot() with its send time: false when the table is full and the request is not tracked. */
  add(command: number, sequenceId: number, now: number): boolean {
    const slot = this.addSlot(command, sequenceId);
    if (slot >= 0) this.setSentAt(slot, now);
    return slot !== UNTRACKED;
  }

  /** An answer: forgets one request of that key; its (oldest) send time, or -1 when none was outstanding. */
  take(command: number, sequenceId: number): number {
    const slot = this.find(command, sequenceId);
    if (slot < 0) return -1;
    const sentAt = this.sentAt(slot);
    this.release(slot);
    return sentAt;
  }

  remove(slot: number): void {
    const slots = this.slots;
    this.used--;
    if (homeOfKey(slots[slot * SLOT]) !== slot) this.displaced--;
    if (this.displaced === 0) {
      // Every other entry sits in its home slot: none can need this one's place.
      slots[slot * SLOT] = EMPTY;
      return;
    }
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & TABLE_MASK;
      const from = j * SLOT;
      if (slots[from] === EMPTY) break;
      // An entry may fill the hole unless its home lies cyclically in (hole, j].
      const home = homeOfKey(slots[from]);
      if (((j - home) & TABLE_MASK) >= ((j - hole) & TABLE_MASK)) {
        const to = hole * SLOT;
        if (home === hole) this.displaced--;
        slots[to] = slots[from];
        slots[to + COUNT] = slots[from + COUNT];
        slots[to + SENT_AT] = slots[from + SENT_AT];
        hole = j;
      }
    }
    slots[hole * SLOT] = EMPTY;
  }
}

/** Where a session's frames are counted; `frontend` null: only reading the account (cmpp-account). */
export class CmppInspection {
  readonly upReader: CmppFrameReader<CmppInspection>;
  readonly downReader: CmppFrameReader<CmppInspection>;
  /** The client's requests awaiting the server, and the server's awaiting the client. */
  readonly clientRequests = new OutstandingTable();
  readonly serverRequests = new OutstandingTable();
  account: CmppCounters | null = null;
  /**
   * What this session counted since the last fold() (TALLY_* layout, cmpp-stats.ts): one add per frame here,
   * folded into the frontend's, server's and account's counters when stats are read, before the session's server
   * or account changes and when it ends.
   */
  readonly tally = new Float64Array(TALLY_LENGTH);
  /** The tally may hold counts: set after each chunk, cleared by fold(); a stats read skips idle sessions. */
  private dirty = false;
  /** CONNECT's version byte (0: no CONNECT seen). */
  versionByte = 0;
  /** The CONNECT's Sequence_Id, for Tether's own answer when it refuses the login (login-gate.ts). */
  connectSequenceId = 0;
  /** A CONNECT_RESP with status 0 passed: the client is logged in (a TERMINATE means something to it). */
  loggedIn = false;
  /** A TERMINATE passed, either way: the session is ending the protocol's way, its legs' ends are not deaths. */
  terminated = false;
  /** The messages in flight when it ended were counted as ambiguous (once per session). */
  ambiguousCounted = false;
  /** The clock for this chunk, read on first need (-1: not yet). */
  now = -1;
  private electionDone: boolean;
  /** Counting frames (a frontend that inspects) and past the election: scan() may count whole frames. */
  private fast: boolean;
  /** The server whose counters serverCounters are (syncServer() keeps them in step with the session's). */
  private counted: ServerRuntime | null = null;
  private serverCounters: CmppCounters | null = null;

  constructor(
    readonly session: InspectedSession,
    readonly frontend: CmppCounters | null,
    private readonly accounts: CmppAccounts,
    awaitingAccount: boolean,
  ) {
    this.upReader = new CmppFrameReader(UP, this);
    this.downReader = new CmppFrameReader(DOWN, this);
    this.electionDone = !awaitingAccount;
    this.fast = frontend !== null && this.electionDone;
    if (frontend !== null) frontend.sessions++;
  }

  feedUp(chunk: Buffer, offset: number, length: number): void {
    this.feed(true, chunk, offset, length);
  }

  feedDown(chunk: Buffer, offset: number, length: number): void {
    this.feed(false, chunk, offset, length);
  }

  private feed(up: boolean, chunk: Buffer, offset: number, length: number): void {
    this.now = -1;
    if (this.session.server !== this.counted) this.syncServer();
    const reader = up ? this.upReader : this.downReader;
    if (!this.fast) reader.feed(chunk, offset, length);
    else if (up) this.feedFast(reader, this.clientRequests, this.serverRequests, 0, chunk, offset, length);
    else this.feedFast(reader, this.serverRequests, this.clientRequests, DOWN_OFFSET, chunk, offset, length);
    // After the chunk: a fold in the middle of it (a CONNECT naming the account) leaves the rest for the next one.
    this.dirty = true;
  }

  /**
   * Most frames are counted by scan(); the reader (and the sink's onFrame) takes the frames scan() leaves: a frame
   * cut by a read's end, a command scan() doesn't count itself, a length that isn't CMPP.
   */
  private feedFast(
    reader: CmppFrameReader<CmppInspection>,
    mine: OutstandingTable,
    theirs: OutstandingTable,
    slotOffset: number,
    chunk: Buffer,
    offset: number,
    length: number,
  ): void {
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      if (reader.betweenFrames) {
        pos = scan(this, mine, theirs, slotOffset, chunk, pos, end);
        if (pos === end) return;
      }
      pos = reader.step(chunk, pos, end);
      if (this.session.inspection !== this) return;
    }
  }

  clock(): number {
    if (this.now < 0) this.now = performance.now();
    return this.now;
  }

  /** Sets the send time of a new request in `slot` of `table` to this chunk's clock. */
  stamp(table: OutstandingTable, slot: number): void {
    if (this.now < 0) this.now = performance.now();
    table.setSentAt(slot, this.now);
  }

  /** A SUBMIT answered: its latency from the send time in `slot` of `table`, into the tally's histogram. */
  countLatency(table: OutstandingTable, slot: number): void {
    if (this.now < 0) this.now = performance.now();
    const ms = this.now - table.sentAt(slot);
    const tally = this.tally;
    tally[TALLY_LATENCY + latencyBucketBySearch(ms)]++;
    tally[TALLY_LATENCY_SUM] += ms;
  }

  /** Something was fed since the last fold(). */
  get unfolded(): boolean {
    return this.dirty;
  }

  /** Adds the tally to the frontend's, server's and account's counters and clears it. */
  fold(): void {
    this.dirty = false;
    const tally = this.tally;
    this.frontend?.addTally(tally);
    this.serverCounters?.addTally(tally);
    this.account?.addTally(tally);
    tally.fill(0);
  }

  /** The session's server changed (elected, or a retry): what was counted so far belongs to the previous one. */
  private syncServer(): void {
    this.fold();
    const server = this.session.server;
    this.counted = server;
    this.serverCounters =
      server === null || this.frontend === null ? null : (server.cmpp ??= new CmppCounters());
  }

  accountCounters(account: string): CmppCounters {
    return this.accounts.get(account);
  }

  /** The session's server's counters, in step with the session's server. */
  server(): CmppCounters | null {
    if (this.session.server !== this.counted) this.syncServer();
    return this.serverCounters;
  }

  /** The first frame passed (or the bytes are not CMPP): a cmpp-account session elects its server now. */
  firstFrame(): void {
    if (this.electionDone) return;
    this.electionDone = true;
    this.fast = this.frontend !== null;
    this.session.electAfterAccount(this.session.account);
    // The elected server counts this frame and the rest of the chunk.
    if (this.session.server !== this.counted) this.syncServer();
  }

  /** The account named by a CONNECT: what was counted before it was the previous account's (or none's). */
  setAccount(account: CmppCounters): void {
    this.fold();
    this.account = account;
  }

  /** Stops inspecting this session; its bytes pass on untouched. */
  stop(): void {
    this.fold();
    if (this.session.inspection === this) this.session.inspection = null;
  }

  outstanding(): Outstanding {
    return { up: this.clientRequests.total, down: this.serverRequests.total };
  }
}

/** A frontend with `inspect: cmpp` counts into its own counters, created on first use. */
export function frontendCounters(frontend: FrontendRuntime): CmppCounters {
  return (frontend.cmpp ??= new CmppCounters());
}

/** The inspection part of a session's SessionInfo. */
export function inspectionInfo(inspection: CmppInspection | null): {
  cmppVersion?: string;
  outstanding?: Outstanding;
} {
  if (inspection === null || inspection.frontend === null) return {};
  return {
    ...(inspection.versionByte !== 0 ? { cmppVersion: formatVersionByte(inspection.versionByte) } : {}),
    outstanding: inspection.outstanding(),
  };
}

/**
 * The DataView scan() reads a chunk through, and the chunk it was made for. The relay feeds every read from its one
 * static read buffer (session.ts), so in production this view is made once per process: a view per ArrayBuffer
 * (Node's 8 KB pool slices) cost a `DataView` construction, a C++ builtin, every few reads.
 */
let viewChunk: Buffer | null = null;
let chunkView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(chunk: Buffer): DataView<ArrayBufferLike> {
  if (chunk !== viewChunk) {
    viewChunk = chunk;
    chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  return chunkView;
}

/** LATENCY_BOUNDS_MS padded with Infinity to 32 entries, for latencyBucketBySearch(). */
const BOUNDS_32 = new Float64Array(32).fill(Infinity);
BOUNDS_32.set(LATENCY_BOUNDS_MS);
if (LATENCY_BOUNDS_MS.length >= 32)
  throw new Error('latencyBucketBySearch() searches at most 31 latency bounds');

/**
 * latencyBucket() by binary search, for scanAnswers(): the number of bounds below `ms` lies in [bucket, bucket + 2^n)
 * after each step. Five comparisons for any latency, and no loop: a gateway's 1-100 ms took 4-15 steps of a linear
 * search, and after a loop V8 checks every array of the caller's loop again. No latency exceeds the Infinity
 * padding, so the search never goes past the last real bucket; NaN gives the first, as latencyBucket().
 */
export function latencyBucketBySearch(ms: number): number {
  const bounds = BOUNDS_32;
  let bucket = ms > bounds[15] ? 16 : 0;
  if (ms > bounds[bucket + 7]) bucket += 8;
  if (ms > bounds[bucket + 3]) bucket += 4;
  if (ms > bounds[bucket + 1]) bucket += 2;
  if (ms > bounds[bucket]) bucket++;
  return bucket;
}

/**
 * The relay's fast path: counts the whole frames of SUBMIT, DELIVER and ACTIVE_TEST and their answers (nearly
 * every frame of a busy session) from `pos`, a frame boundary, and returns where it stopped: `end`, or a frame it
 * leaves to the reader (cut by the read's end, another command, a length that isn't CMPP). It counts exactly what
 * onFrame() would. A run of requests goes to scanRequests(), a run of answers to scanAnswers(): each a small loop
 * with the table's probe, the result and the latency written out rather than called, and the table's layout as
 * literals (key, count, send time at 0..2 of each slot's 4 numbers; 64 slots, 48 used at most). Two small
 * loops, not one: in one loop V8 kept too few of its values in registers (docs/cmpp-inspection.md "Cost").
 * test/runtime/cmpp-inspect-paths.test.ts holds it to onFrame's counts.
 */
function scan(
  ins: CmppInspection,
  mine: OutstandingTable,
  theirs: OutstandingTable,
  slotOffset: number,
  chunk: Buffer,
  posArg: number,
  end: number,
): number {
  let pos = posArg;
  // Big-endian words through a DataView: one bounds check per word, not one per byte.
  const view = viewOf(chunk);
  // The clock, read once here when the first frame is a SUBMIT or SUBMIT_RESP (the busy case), never in the loops.
  // A later frame that needs a clock not read yet ends the loops and goes to the reader, whose stamp() or
  // countLatency() reads it.
  if (ins.now < 0 && end - pos >= 12 && (view.getInt32((pos + 4) | 0) & 0x7fffffff) === 4)
    ins.now = performance.now();
  for (;;) {
    const from = pos;
    pos = scanRequests(ins, mine, slotOffset, view, pos, end);
    pos = scanAnswers(ins, theirs, slotOffset, view, chunk, pos, end);
    if (pos === from || pos === end) return pos;
  }
}

/**
 * scan()'s loop over a run of requests (OutstandingTable.addSlot written out); stops at an answer. Counts go to
 * locals and into the tally once at the end: an indexed add in the loop costs a dozen instructions (the array's
 * checks, repeated every iteration), a local one.
 */
function scanRequests(
  ins: CmppInspection,
  table: OutstandingTable,
  slotOffsetArg: number,
  view: DataView<ArrayBufferLike>,
  posArg: number,
  endArg: number,
): number {
  // Small integers as untagged locals: a tagged value is checked again at each use in the loop.
  const slotOffset = slotOffsetArg | 0;
  let pos = posArg | 0;
  const end = endArg | 0;
  const now = +ins.now;
  let submits = 0;
  let delivers = 0;
  let activeTests = 0;
  let untracked = 0;
  // The table's state in locals, written back once at the end: field reads and writes in the loop would each
  // carry a map check.
  const slots = table.slots;
  let used = table.used | 0;
  let displaced = table.displaced | 0;
  let total = table.total | 0;
  for (;;) {
    // A whole frame (12..4096 bytes, MAX_FRAME_LENGTH) within the chunk; signed: a length >= 2^31 is negative.
    if (end - pos < 12) break;
    const length = view.getInt32(pos);
    if (length < 12 || length > 4096 || length > end - pos) break;
    // SUBMIT (4), DELIVER (5) or ACTIVE_TEST (8); an answer (negative) ends the run.
    const commandId = view.getInt32((pos + 4) | 0);
    if (commandId === 4) {
      // A SUBMIT needs this read's clock: not read yet (the chunk began with another command), the reader takes
      // this frame and reads it.
      if (now < 0) break;
      submits++;
    } else if (commandId === 5) delivers++;
    else if (commandId === 8) activeTests++;
    else break;
    const sequenceId = view.getInt32((pos + 8) | 0);
    const key = commandId * 4294967296 + (sequenceId >>> 0);
    const home = (sequenceId + commandId) & 63;
    let i = home;
    let k = slots[i * 4];
    while (k !== key && k !== -1) {
      i = (i + 1) & 63;
      k = slots[i * 4];
    }
    if (k === key) {
      slots[i * 4 + 1]++;
      total++;
    } else if (used >= 48) untracked++;
    else {
      const at = i * 4;
      slots[at] = key;
      slots[at + 1] = 1;
      // The send time: SUBMITs only (latency).
      slots[at + 2] = commandId === 4 ? now : 0;
      if (i !== home) displaced++;
      used++;
      total++;
    }
    pos = (pos + length) | 0;
  }
  table.used = used;
  table.displaced = displaced;
  table.total = total;
  if (pos === posArg) return pos;
  const tally = ins.tally;
  tally[SLOT_BY_ID[CommandId.SUBMIT] + slotOffset] += submits;
  tally[SLOT_BY_ID[CommandId.DELIVER] + slotOffset] += delivers;
  tally[SLOT_BY_ID[CommandId.ACTIVE_TEST] + slotOffset] += activeTests;
  tally[TALLY_UNTRACKED] += untracked;
  return pos;
}

/**
 * scanRequests()'s twin for a run of answers (OutstandingTable.find and release written out); stops at a request.
 * Only the latency bucket is added to the tally in the loop (there are 27).
 */
function scanAnswers(
  ins: CmppInspection,
  table: OutstandingTable,
  slotOffsetArg: number,
  view: DataView<ArrayBufferLike>,
  chunk: Buffer,
  posArg: number,
  endArg: number,
): number {
  const slotOffset = slotOffsetArg | 0;
  let pos = posArg | 0;
  const end = endArg | 0;
  const latencyAt = TALLY_LATENCY | 0;
  const now = +ins.now;
  const tally = ins.tally;
  let submitResps = 0;
  let deliverResps = 0;
  let activeTestResps = 0;
  let ok = 0;
  let throttled = 0;
  let latencySum = 0;
  // A run of answers with one send time (NaN: none yet, equal to nothing): their bucket and how many.
  let runSentAt = NaN;
  let runBucket = 0;
  let runCount = 0;
  const slots = table.slots;
  let used = table.used | 0;
  let displaced = table.displaced | 0;
  let total = table.total | 0;
  for (;;) {
    // A whole frame (12..4096 bytes, MAX_FRAME_LENGTH) within the chunk; signed: a length >= 2^31 is negative.
    if (end - pos < 12) break;
    const length = view.getInt32(pos);
    if (length < 12 || length > 4096 || length > end - pos) break;
    // SUBMIT_RESP, DELIVER_RESP or ACTIVE_TEST_RESP (bit 31 set: negative); a request ends the run.
    const commandId = view.getInt32((pos + 4) | 0);
    const request = commandId & 0x7fffffff;
    if (commandId >= 0 || (request !== 4 && request !== 5 && request !== 8)) break;
    // A gateway's SUBMIT_RESP (down) needs this read's clock (see scanRequests). A client's (up; an SP never sends
    // one) is the reader's: it counts as a frame, not as the gateway's result or latency.
    if (request === 4 && (now < 0 || slotOffset === 0)) break;
    const sequenceId = view.getInt32((pos + 8) | 0);
    const key = request * 4294967296 + (sequenceId >>> 0);
    let i = (sequenceId + request) & 63;
    let k = slots[i * 4];
    while (k !== key && k !== -1) {
      i = (i + 1) & 63;
      k = slots[i * 4];
    }
    // The request's send time, read before the release below may clear or move its slot.
    const answered = k === key;
    const sentAt = slots[i * 4 + 2];
    if (answered) {
      total--;
      if (--slots[i * 4 + 1] === 0) {
        if (displaced === 0) {
          // Nothing displaced: nothing can need this slot (OutstandingTable.remove's shortcut).
          slots[i * 4] = -1;
          used--;
        } else {
          // Displaced entries may need shifting: the table's own remove(), on its own state.
          table.used = used;
          table.remove(i);
          used = table.used;
          displaced = table.displaced;
        }
      }
    }
    if (request === 4) {
      submitResps++;
      // The Result (as resultSlot(): by length, 0, 8 or other), and the latency from its SUBMIT's send time.
      const code = length === 24 ? view.getInt32((pos + 20) | 0) : length === 21 ? chunk[(pos + 20) | 0] : -1;
      if (code === 0) ok++;
      else if (code === 8) throttled++;
      if (answered) {
        const ms = now - sentAt;
        latencySum += ms;
        // The SUBMITs of one read share its clock, so their answers (mostly in one read too) share a send time and a
        // bucket: the bucket is searched once per send time, and counted into the tally when it changes.
        if (sentAt !== runSentAt) {
          if (runCount !== 0) tally[latencyAt + runBucket] += runCount;
          runSentAt = sentAt;
          runBucket = latencyBucketBySearch(ms);
          runCount = 0;
        }
        runCount++;
      }
    } else if (request === 5) deliverResps++;
    else activeTestResps++;
    pos = (pos + length) | 0;
  }
  table.used = used;
  table.total = total;
  if (pos === posArg) return pos;
  tally[SLOT_BY_ID[0x104] + slotOffset] += submitResps;
  tally[SLOT_BY_ID[0x105] + slotOffset] += deliverResps;
  tally[SLOT_BY_ID[0x108] + slotOffset] += activeTestResps;
  tally[TALLY_SUBMIT_OK] += ok;
  tally[TALLY_SUBMIT_THROTTLED] += throttled;
  tally[TALLY_SUBMIT_OTHER] += submitResps - ok - throttled;
  tally[TALLY_LATENCY_SUM] += latencySum;
  if (runCount !== 0) tally[latencyAt + runBucket] += runCount;
  return pos;
}

/**
 * A frame in either direction (commandId signed): counts, outstanding requests and answers, results and latency,
 * into the session's tally. Only integers and objects cross its calls (no boxed doubles per frame).
 */
function onFrame(
  ins: CmppInspection,
  up: boolean,
  commandId: number,
  sequenceId: number,
  buf: Buffer,
  bodyOffset: number,
  totalLength: number,
): void {
  const tally = ins.tally;
  tally[commandSlot(commandId) + (up ? 0 : DOWN_OFFSET)]++;
  if (commandId >= 0) {
    if (commandId === CommandId.TERMINATE) ins.terminated = true;
    const mine = up ? ins.clientRequests : ins.serverRequests;
    const slot = mine.addSlot(commandId & 0xff, sequenceId);
    if (slot >= 0) {
      if (commandId === CommandId.SUBMIT) ins.stamp(mine, slot);
    } else if (slot === UNTRACKED) tally[TALLY_UNTRACKED]++;
    return;
  }
  const theirs = up ? ins.serverRequests : ins.clientRequests;
  const slot = theirs.find(commandId & 0xff, sequenceId);
  // Results, latency and login statuses are the gateway's answers (down). A client's SUBMIT_RESP or CONNECT_RESP
  // (an SP never sends either) counts as a frame only: it must not make its gateway look throttled or logged in.
  if (!up && commandId === SUBMIT_RESP) {
    tally[resultSlot(buf, bodyOffset, totalLength)]++;
    if (slot >= 0) ins.countLatency(theirs, slot);
  } else if (!up && commandId === CONNECT_RESP)
    connectResp(ins, readConnectRespStatus(buf, bodyOffset, totalLength));
  if (slot >= 0) theirs.release(slot);
}

/** CONNECT_RESP statuses (once per login): straight into the counters. */
function connectResp(ins: CmppInspection, status: number): void {
  if (status === 0) ins.loggedIn = true;
  ins.frontend!.connectResult(status);
  ins.server()?.connectResult(status);
  ins.account?.connectResult(status);
}

/**
 * The tally slot of a SUBMIT_RESP's Result (read by length, as codec.readRespResult): 0, 8 (throttled) or other.
 * Plain byte arithmetic: Buffer#readUInt32BE validates its offset on every call, and this runs once per SUBMIT.
 */
function resultSlot(buf: Buffer, bodyOffset: number, totalLength: number): number {
  const at = bodyOffset + 8;
  let result: number;
  if (totalLength === Length.RESP_3_0) {
    // Results above 255 are `other`: only the low byte matters once the others are known to be zero.
    if ((buf[at] | buf[at + 1] | buf[at + 2]) !== 0) return TALLY_SUBMIT_OTHER;
    result = buf[at + 3];
  } else if (totalLength === Length.RESP_2_0) result = buf[at];
  else return TALLY_SUBMIT_OTHER;
  return result === 0
    ? TALLY_SUBMIT_OK
    : result === RESULT_THROTTLED
      ? TALLY_SUBMIT_THROTTLED
      : TALLY_SUBMIT_OTHER;
}

/**
 * The frame readers' sink, one instance per direction. One class, so the readers' calls into it see a single
 * shape and V8 can inline them (two object literals with their own methods made every call site polymorphic).
 */
class InspectionSink implements FrameSink<CmppInspection> {
  constructor(private readonly up: boolean) {}

  /**
   * Body bytes onFrame reads of a command, the same both ways: a hostile client may send a server's answer
   * (CONNECT_RESP, SUBMIT_RESP) with its body in a later read, and reading past the chunk would throw in the relay.
   */
  bodyPrefix(commandId: number): number {
    if (commandId === CommandId.CONNECT) return BODY_PREFIX.CONNECT;
    if (commandId === SUBMIT_RESP) return BODY_PREFIX.RESP;
    return commandId === CONNECT_RESP ? BODY_PREFIX.CONNECT_RESP : 0;
  }

  onFrame(
    ins: CmppInspection,
    commandId: number,
    sequenceId: number,
    buf: Buffer,
    bodyOffset: number,
    _bodyBytes: number,
    totalLength: number,
  ): void {
    if (this.up) {
      // Client -> server. A CONNECT names the account (and, for cmpp-account, the server).
      if (commandId === CommandId.CONNECT) connect(ins, buf, bodyOffset, totalLength, sequenceId);
      ins.firstFrame();
      if (ins.frontend === null) {
        ins.stop();
        return;
      }
    } else if (ins.frontend === null) return;
    onFrame(ins, this.up, commandId, sequenceId, buf, bodyOffset, totalLength);
  }

  onNotCmpp(ins: CmppInspection): void {
    notCmpp(ins);
  }
}

const UP = new InspectionSink(true);
const DOWN = new InspectionSink(false);

function connect(
  ins: CmppInspection,
  buf: Buffer,
  bodyOffset: number,
  totalLength: number,
  sequenceId: number,
): void {
  const account = readConnectAccount(buf, bodyOffset, totalLength);
  if (account === '') return;
  ins.session.account = account;
  ins.connectSequenceId = sequenceId >>> 0;
  ins.versionByte = readConnectVersion(buf, bodyOffset, totalLength);
  if (ins.frontend !== null) {
    const counters = ins.accountCounters(account);
    ins.setAccount(counters);
    counters.sessions++;
    counters.versionByte = ins.versionByte;
  }
}

function notCmpp(ins: CmppInspection): void {
  if (ins.session.inspection !== ins) return; // the other direction already gave up
  ins.stop();
  if (ins.frontend !== null) {
    ins.frontend.notCmpp++;
    const server = ins.server();
    if (server !== null) server.notCmpp++;
    if (ins.account !== null) ins.account.notCmpp++;
  }
  ins.firstFrame();
}

/**
 * Brings the CMPP counters up to date for a stats read: folds every live inspected session's tally into its
 * counters (a session that ended folded its own), and sums the outstanding requests of live sessions per counters
 * object (frontend, server, account).
 */
export function settleLive(sessions: Iterable<InspectedSession>): Map<CmppCounters, Outstanding> {
  const sums = new Map<CmppCounters, Outstanding>();
  const add = (c: CmppCounters | null | undefined, up: number, down: number) => {
    if (c === null || c === undefined) return;
    const sum = sums.get(c);
    if (sum === undefined) sums.set(c, { up, down });
    else {
      sum.up += up;
      sum.down += down;
    }
  };
  for (const session of sessions) {
    const ins = session.inspection;
    if (ins === null || ins.frontend === null) continue;
    if (ins.unfolded) ins.fold();
    const up = ins.clientRequests.total;
    const down = ins.serverRequests.total;
    if (up === 0 && down === 0) continue;
    add(ins.frontend, up, down);
    add(session.server?.cmpp, up, down);
    add(ins.account, up, down);
  }
  return sums;
}
