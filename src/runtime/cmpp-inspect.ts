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
import { CommandId, formatVersionByte, Length } from '../cmpp/commands.js';
import { CmppFrameReader, type FrameSink } from '../cmpp/frame-reader.js';
import type { ServerRuntime } from './backend.js';
import {
  type CmppAccounts,
  CmppCounters,
  commandSlot,
  DOWN_OFFSET,
  latencyBucket,
  type Outstanding,
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
/** A slot's four numbers: key (at 0), count, send time, home slot. */
const SLOT = 4;
const COUNT = 1;
const SENT_AT = 2;
const HOME = 3;

/**
 * Where a key's probe starts: its sequence id modulo the table size. Clients number requests consecutively, so a
 * window of them sits in adjacent slots (a few cache lines, no collisions); ids that do collide cost a longer probe,
 * never more than TABLE_MAX_USED slots.
 */
function homeSlot(command: number, sequenceId: number): number {
  return (sequenceId + command) & TABLE_MASK;
}

/**
 * Requests of one direction awaiting their answer, keyed by command and Sequence_Id, counted per key
 * (ids may repeat while in flight) with the send time of the oldest. Open addressing, linear probing,
 * backward-shift deletion: fixed memory, nothing allocated per request. One slot is four numbers side by
 * side in one array (key, count, send time, home slot), so a probe reads one cache line, not four arrays.
 */
export class OutstandingTable {
  private readonly slots = new Float64Array(TABLE_SIZE * SLOT).fill(EMPTY);
  private used = 0;
  /** Entries not in their home slot. While there are none (consecutive ids), a deletion shifts nothing. */
  private displaced = 0;
  /** Requests awaiting an answer, repeats of one id counted each. */
  total = 0;

  /** Records a request (sequenceId signed or unsigned); false when the table is full and it is not tracked. */
  add(command: number, sequenceId: number, now: number): boolean {
    const slots = this.slots;
    const key = command * 4294967296 + (sequenceId >>> 0);
    const home = homeSlot(command, sequenceId);
    let i = home;
    for (;;) {
      const k = slots[i * SLOT];
      if (k === key) {
        slots[i * SLOT + COUNT]++;
        this.total++;
        return true;
      }
      if (k === EMPTY) break;
      i = (i + 1) & TABLE_MASK;
    }
    if (this.used >= TABLE_MAX_USED) return false;
    const at = i * SLOT;
    slots[at] = key;
    slots[at + COUNT] = 1;
    slots[at + SENT_AT] = now;
    slots[at + HOME] = home;
    if (i !== home) this.displaced++;
    this.used++;
    this.total++;
    return true;
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

  /** An answer: forgets one request of that key; its (oldest) send time, or -1 when none was outstanding. */
  take(command: number, sequenceId: number): number {
    const slots = this.slots;
    const key = command * 4294967296 + (sequenceId >>> 0);
    let i = homeSlot(command, sequenceId);
    for (;;) {
      const k = slots[i * SLOT];
      if (k === EMPTY) return -1;
      if (k === key) break;
      i = (i + 1) & TABLE_MASK;
    }
    const at = i * SLOT;
    const sentAt = slots[at + SENT_AT];
    this.total--;
    if (--slots[at + COUNT] === 0) this.remove(i);
    return sentAt;
  }

  private remove(slot: number): void {
    const slots = this.slots;
    this.used--;
    if (slots[slot * SLOT + HOME] !== slot) this.displaced--;
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
      if (((j - slots[from + HOME]) & TABLE_MASK) >= ((j - hole) & TABLE_MASK)) {
        const to = hole * SLOT;
        if (slots[from + HOME] === hole) this.displaced--;
        slots[to] = slots[from];
        slots[to + COUNT] = slots[from + COUNT];
        slots[to + SENT_AT] = slots[from + SENT_AT];
        slots[to + HOME] = slots[from + HOME];
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
  /** The server whose counters serverCounters are (server() keeps them in step with the session's). */
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
    if (frontend !== null) frontend.sessions++;
  }

  feedUp(chunk: Buffer, offset: number, length: number): void {
    this.now = -1;
    this.upReader.feed(chunk, offset, length);
  }

  feedDown(chunk: Buffer, offset: number, length: number): void {
    this.now = -1;
    this.downReader.feed(chunk, offset, length);
  }

  clock(): number {
    if (this.now < 0) this.now = performance.now();
    return this.now;
  }

  accountCounters(account: string): CmppCounters {
    return this.accounts.get(account);
  }

  /** The session's server's counters; looked up again only when the session's server changed (a retry). */
  server(): CmppCounters | null {
    const server = this.session.server;
    if (server !== this.counted) {
      this.counted = server;
      this.serverCounters = server === null ? null : (server.cmpp ??= new CmppCounters());
    }
    return this.serverCounters;
  }

  /** The first frame passed (or the bytes are not CMPP): a cmpp-account session elects its server now. */
  firstFrame(): void {
    if (this.electionDone) return;
    this.electionDone = true;
    this.session.electAfterAccount(this.session.account);
  }

  /** Stops inspecting this session; its bytes pass on untouched. */
  stop(): void {
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

/** A frame in either direction (commandId signed): counts, outstanding requests and answers, results and latency. */
function onFrame(
  ins: CmppInspection,
  up: boolean,
  commandId: number,
  sequenceId: number,
  buf: Buffer,
  bodyOffset: number,
  totalLength: number,
): void {
  const frontend = ins.frontend!;
  const server = ins.server();
  const account = ins.account;
  const slot = commandSlot(commandId) + (up ? 0 : DOWN_OFFSET);
  frontend.frames[slot]++;
  if (server !== null) server.frames[slot]++;
  if (account !== null) account.frames[slot]++;
  const mine = up ? ins.clientRequests : ins.serverRequests;
  const theirs = up ? ins.serverRequests : ins.clientRequests;
  if (commandId >= 0) {
    if (commandId === CommandId.TERMINATE) ins.terminated = true;
    const now = commandId === CommandId.SUBMIT ? ins.clock() : 0;
    if (!mine.add(commandId & 0xff, sequenceId, now)) {
      frontend.untracked++;
      if (server !== null) server.untracked++;
      if (account !== null) account.untracked++;
    }
    return;
  }
  const sentAt = theirs.take(commandId & 0xff, sequenceId);
  if (commandId === SUBMIT_RESP) {
    const result = respResult(buf, bodyOffset, totalLength);
    frontend.submitResult(result);
    server?.submitResult(result);
    account?.submitResult(result);
    if (sentAt >= 0) {
      const ms = ins.clock() - sentAt;
      const bucket = latencyBucket(ms);
      frontend.submitLatency(ms, bucket);
      server?.submitLatency(ms, bucket);
      account?.submitLatency(ms, bucket);
    }
  } else if (commandId === CONNECT_RESP) {
    const status = readConnectRespStatus(buf, bodyOffset, totalLength);
    if (status === 0) ins.loggedIn = true;
    frontend.connectResult(status);
    server?.connectResult(status);
    account?.connectResult(status);
  }
}

/**
 * SUBMIT_RESP Result by length, as codec.readRespResult, in plain byte arithmetic: Buffer#readUInt32BE
 * validates its offset on every call, and this runs once per SUBMIT.
 */
function respResult(buf: Buffer, bodyOffset: number, totalLength: number): number {
  const at = bodyOffset + 8;
  if (totalLength === Length.RESP_3_0)
    return buf[at] * 0x1000000 + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
  return totalLength === Length.RESP_2_0 ? buf[at] : -1;
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
    ins.account = ins.accountCounters(account);
    ins.account.sessions++;
    ins.account.versionByte = ins.versionByte;
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

/** Outstanding requests of live inspected sessions, summed per counters object (frontend, server, account). */
export function liveOutstanding(sessions: Iterable<InspectedSession>): Map<CmppCounters, Outstanding> {
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
    const up = ins.clientRequests.total;
    const down = ins.serverRequests.total;
    if (up === 0 && down === 0) continue;
    add(ins.frontend, up, down);
    add(session.server?.cmpp, up, down);
    add(ins.account, up, down);
  }
  return sums;
}
