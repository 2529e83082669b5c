// How an inspected CMPP session ends when Tether ends it, or when one of its legs dies (issue 12 points 2 and 4;
// docs/cmpp-session-control.md). A slow path: only sessions being closed come here (session.ts hands their
// chunks over instead of relaying them), the relay of every other session is untouched.
//
// Lossless close (phase CLIENT, then SERVER): Tether writes TERMINATE to the client, consumes its TERMINATE_RESP,
// keeps relaying the responses still owed both ways and relays no new request from either side (frame by frame:
// a client resends unanswered SUBMITs on its next connection, a gateway redelivers unanswered DELIVERs, so holding
// them back loses and duplicates nothing). Once nothing is outstanding either way it writes TERMINATE to the server,
// waits at most TERMINATE_WAIT_MS for the TERMINATE_RESP and ends both legs. Past the backend's close timeout it
// ends them anyway; the messages then in flight are counted as ambiguous.
//
// Dead legs: the client leg gone without TERMINATE (reset, FIN, idle) -> TERMINATE to the server at once (phase
// SERVER), so the gateway frees the account's slot; the server leg gone -> TERMINATE to the client (phase CLIENT with
// the server gone), so it reconnects at once. Messages in flight are counted as ambiguous, never resent by Tether.
//
// Tether's own frames (TERMINATE, TERMINATE_RESP) go into a stream only between two frames: a frame whose first
// bytes were relayed before the close began is relayed to its end first (CmppFrameReader.frameRemainder).
import { encodeTerminate, encodeTerminateResp } from '../cmpp/codec.js';
import {
  CommandId,
  HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  MIN_FRAME_LENGTH,
  RESPONSE_BIT,
} from '../cmpp/commands.js';
import type { CmppInspection } from './cmpp-inspect.js';
import type { Session } from './session.js';

/** The Sequence_Id of the TERMINATEs Tether writes: "TETH" in ASCII, easy to find in a capture. */
export const TETHER_SEQUENCE_ID = 0x54455448;
/** How long Tether waits for the server's answer to its TERMINATE. */
export const TERMINATE_WAIT_MS = 2000;
/** `backend.cmpp.closeTimeout` when not set: the hard limit of a lossless close. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/** Both legs ended: how long the peers have to close before Tether cuts them. */
const LINGER_MS = 2000;

/** Waiting for the client (its TERMINATE_RESP and the answers owed both ways). */
const CLIENT = 0;
/** TERMINATE to the server, waiting for its TERMINATE_RESP. */
const SERVER = 1;
/** Both legs ended (or the session was cut): nothing more is relayed. */
const DONE = 2;

/** One direction of a closing session: where its current frame stands, and Tether's frames waiting to go in. */
class FrameFilter {
  /** Bytes of the current frame still to pass, and whether they are relayed (else dropped). */
  remaining = 0;
  relay = false;
  /** Header bytes still to relay of a frame whose first bytes were relayed before the close began. */
  committedHeader = 0;
  /** A header that straddles reads. */
  readonly header = Buffer.alloc(HEADER_LENGTH);
  headerHave = 0;
  /** Tether's own frames waiting for this direction to be between two frames. */
  readonly waiting: Buffer[] = [];

  constructor(readonly up: boolean) {}

  /** Between two frames of what this direction has written (a frame decided on but not started counts as between). */
  between(): boolean {
    return this.committedHeader === 0 && !(this.relay && this.remaining > 0);
  }

  /** At the start: the frame in progress (bytes still to come, as CmppFrameReader.frameRemainder says) is relayed. */
  commit(rest: number): void {
    if (rest > 0) {
      this.remaining = rest;
      this.relay = true;
    } else if (rest < 0) this.committedHeader = -rest;
  }
}

export class CmppClose {
  phase = CLIENT;
  readonly up = new FrameFilter(true);
  readonly down = new FrameFilter(false);
  /** TERMINATE written (or waiting to be) to the client / the server. */
  clientAsked = false;
  serverAsked = false;
  /** The client answered Tether's TERMINATE (or sent its own). */
  clientAnswered = false;
  /** The server sent a TERMINATE of its own: it is ending too. */
  serverEnding = false;
  /**
   * The client's own TERMINATE is answered once: more of them (a storm) are dropped, else every 12 bytes it sends
   * would queue 12 more for it whatever its backpressure, until the hard limit. (A server's TERMINATE ends the close
   * at once, so nothing it sends after is read.)
   */
  clientTerminateAnswered = false;
  /** When the server's TERMINATE_RESP is due. */
  answerDue = 0;

  constructor(
    readonly reason: string,
    readonly hardDeadline: number,
  ) {}
}

/** An inspected, logged-in, established session nobody is ending yet: one a TERMINATE means something to. */
function closable(s: Session): s is Session & { inspection: CmppInspection } {
  const ins = s.inspection;
  return (
    ins !== null &&
    ins.frontend !== null &&
    ins.loggedIn &&
    s.closing === null &&
    s.closeReason === '' &&
    s.state === 'established' &&
    s.upstream !== null
  );
}

function begin(s: Session, ins: CmppInspection, reason: string, phase: number): CmppClose {
  const timeout = s.backend.config.cmpp?.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const c = new CmppClose(reason, Date.now() + timeout);
  c.phase = phase;
  c.up.commit(ins.upReader.frameRemainder());
  c.down.commit(ins.downReader.frameRemainder());
  s.closing = c;
  s.state = 'closing';
  arm(s, c.hardDeadline);
  return c;
}

/**
 * The lossless close of one session (shutdownSessions with graceful, onMarkedDown: terminate). False when the
 * session is not one it applies to (not inspected, not logged in, still connecting, already ending): the caller
 * cuts it as before.
 */
export function startLosslessClose(s: Session, reason: string, cause: string): boolean {
  if (!closable(s) || s.clientEnded || s.clientClosed || s.upstreamEnded) return false;
  if (s.cause === '') s.cause = cause;
  const c = begin(s, s.inspection, reason, CLIENT);
  c.clientAsked = true;
  inject(s, c, c.down, encodeTerminate(TETHER_SEQUENCE_ID));
  advance(s);
  return true;
}

/**
 * The client leg is gone or going (reset, FIN, idle) without a TERMINATE: TERMINATE to the server now. False when it
 * doesn't apply (the caller goes on as before). `cutClient`: the client is cut first (idle timeout).
 */
export function clientLegDied(s: Session, reason: string, cause: string, cutClient = false): boolean {
  if (!closable(s) || s.inspection.terminated || s.upstreamEnded || s.upstreamClosed) return false;
  if (s.cause === '') s.cause = cause;
  begin(s, s.inspection, reason, SERVER);
  if (cutClient) s.client.destroy();
  if (s.clientClosed) countAmbiguous(s);
  advance(s);
  return true;
}

/** The server leg is gone (FIN or reset) without a TERMINATE: the client gets one, then both legs end. */
export function serverLegDied(s: Session, reason: string): boolean {
  if (!closable(s) || s.inspection.terminated || s.clientClosed) return false;
  begin(s, s.inspection, reason, CLIENT);
  countAmbiguous(s);
  s.client.resume(); // in case it waited for the server's drain: its end must be read
  advance(s);
  return true;
}

/** A leg of a closing session ended or closed (session.ts updated its flags). */
export function closingLegChanged(s: Session): void {
  const c = s.closing!;
  if (c.phase === DONE || s.closeReason !== '') return;
  // Answers that come now can't reach a closed client, and a server gone won't answer: what is in flight stays so.
  if (s.clientClosed || s.upstreamClosed) countAmbiguous(s);
  // A server paused for a client that is gone would never be read again (its TERMINATE_RESP with it).
  if (s.clientClosed && s.upstream !== null && !s.upstreamClosed) s.upstream.resume();
  // Likewise a client paused for a server that is gone: its end must still be read for the session to close.
  if ((s.upstreamClosed || s.upstreamEnded) && !s.clientClosed) s.client.resume();
  advance(s);
}

/** Client -> server bytes of a closing session. */
export function closingUp(s: Session, chunk: Buffer): void {
  const c = s.closing!;
  filter(s, c, c.up, chunk);
  advance(s);
}

/** Server -> client bytes of a closing session; false: stop reading the server until the client drains. */
export function closingDown(s: Session, chunk: Buffer): boolean {
  const c = s.closing!;
  const flowing = filter(s, c, c.down, chunk);
  advance(s);
  return flowing;
}

/**
 * Counts the messages in flight of an ending inspected session as ambiguous, once: per frontend, server and
 * account. Called when the session ends (connections.ts) or earlier, at the moment answers stop being able to
 * reach their sender.
 */
export function countAmbiguous(s: Session): void {
  const ins = s.inspection;
  if (ins === null || ins.frontend === null || ins.ambiguousCounted) return;
  ins.ambiguousCounted = true;
  // Never connected to a server (a login Tether refused, no server, a failed connect): what the client sent behind
  // its CONNECT reached no gateway, so it can't be doubled; the client resends it.
  if (s.connectedAt === 0) return;
  const n = ins.clientRequests.messages() + ins.serverRequests.messages();
  if (n === 0) return;
  ins.frontend.ambiguous += n;
  const server = ins.server();
  if (server !== null) server.ambiguous += n;
  if (ins.account !== null) ins.account.ambiguous += n;
}

/** Moves the close on as far as what has happened allows. Cheap: called after every event. */
function advance(s: Session): void {
  const c = s.closing!;
  if (c.phase === DONE || s.closeReason !== '') return;
  const ins = s.inspection!;
  const serverGone = s.upstreamEnded || s.upstreamClosed || c.serverEnding;
  const clientMute = s.clientEnded || s.clientClosed;
  if (c.phase === CLIENT) {
    if (serverGone) {
      // The client still hears of it (if that stream is between frames: else the TERMINATE can't go in).
      if (!c.clientAsked && !s.clientClosed) {
        c.clientAsked = true;
        inject(s, c, c.down, encodeTerminate(TETHER_SEQUENCE_ID));
      }
      finish(s);
      return;
    }
    const clientDone = c.clientAnswered || clientMute;
    // Answers owed to the client matter while it can read them; the client's answers while it can send them.
    const upOwed = s.clientClosed ? 0 : ins.clientRequests.total;
    const downOwed = clientMute ? 0 : ins.serverRequests.total;
    if (!clientDone || upOwed > 0 || downOwed > 0) return;
    c.phase = SERVER;
  }
  if (c.phase === SERVER) {
    if (serverGone) {
      finish(s);
      return;
    }
    if (c.serverAsked) return;
    // A client frame cut short by the client's end can't be completed: the TERMINATE could never follow it.
    if (!c.up.between() && clientMute) {
      finish(s);
      return;
    }
    c.serverAsked = true;
    c.answerDue = Date.now() + TERMINATE_WAIT_MS;
    inject(s, c, c.up, encodeTerminate(TETHER_SEQUENCE_ID));
    arm(s, c.answerDue);
  }
}

/** Ends both legs (FIN after what was written); a peer that doesn't close within LINGER_MS is cut. */
function finish(s: Session): void {
  const c = s.closing!;
  if (c.phase === DONE) return;
  c.phase = DONE;
  countAmbiguous(s);
  if (s.closeReason === '') s.closeReason = c.reason;
  s.endLegs();
  arm(s, Date.now() + LINGER_MS);
}

function arm(s: Session, at: number): void {
  s.clearTimer();
  s.timer = setTimeout(onCloseTimer, Math.max(0, at - Date.now()), s);
  s.timer.unref();
}

function onCloseTimer(s: Session): void {
  s.timer = null;
  const c = s.closing!;
  if (c.phase === DONE || s.closeReason !== '') {
    // Linger over: cut whatever is still open.
    s.client.destroy();
    s.upstream?.destroy();
    return;
  }
  const now = Date.now();
  if (c.serverAsked) {
    if (now >= c.answerDue)
      finish(s); // no TERMINATE_RESP in time
    else arm(s, c.answerDue);
    return;
  }
  if (now < c.hardDeadline) {
    arm(s, c.hardDeadline);
    return;
  }
  // The hard limit: what is in flight now is ambiguous. The server still gets a TERMINATE if its stream allows.
  countAmbiguous(s);
  if (c.up.between() && !s.upstreamEnded && !s.upstreamClosed) {
    c.serverAsked = true;
    inject(s, c, c.up, encodeTerminate(TETHER_SEQUENCE_ID));
  }
  finish(s);
}

/** Tether's own frame into one direction: now if it is between frames, else when the current frame has passed. */
function inject(s: Session, c: CmppClose, f: FrameFilter, frame: Buffer): void {
  if (f.between() && f.waiting.length === 0) write(s, f, frame);
  else f.waiting.push(frame);
}

function write(s: Session, f: FrameFilter, frame: Buffer): boolean {
  if (f.up) {
    s.forwardUp(frame);
    return true;
  }
  return s.forwardDown(frame);
}

/** A direction reached the end of a frame: Tether's waiting frames go in, and the close may move on. */
function between(s: Session, c: CmppClose, f: FrameFilter): boolean {
  let flowing = true;
  while (f.waiting.length > 0 && c.phase !== DONE) flowing = write(s, f, f.waiting.shift()!) && flowing;
  advance(s);
  return flowing;
}

/** Relays `n` bytes of a frame being relayed: the inspection reads them (outstanding requests), then they go out. */
function relay(s: Session, f: FrameFilter, buf: Buffer, pos: number, n: number): boolean {
  const ins = s.inspection!;
  const piece = buf.subarray(pos, pos + n);
  if (f.up) {
    ins.feedUp(buf, pos, n);
    s.forwardUp(piece);
    return true;
  }
  ins.feedDown(buf, pos, n);
  return s.forwardDown(piece);
}

/**
 * Splits one read into frames and relays only what may pass (decide). `chunk` is the session's own copy of the read
 * (session.ts), so pieces of it can be handed to writes that may queue; a header that straddled reads is copied.
 */
function filter(s: Session, c: CmppClose, f: FrameFilter, chunk: Buffer): boolean {
  let flowing = true;
  let pos = 0;
  const end = chunk.length;
  while (pos < end) {
    if (c.phase === DONE || s.closeReason !== '') return flowing; // nothing passes after the end
    if (f.committedHeader > 0) {
      const n = Math.min(f.committedHeader, end - pos);
      flowing = relay(s, f, chunk, pos, n) && flowing;
      pos += n;
      f.committedHeader -= n;
      if (f.committedHeader === 0) {
        const ins = s.inspection!;
        f.remaining = (f.up ? ins.upReader : ins.downReader).frameRemainder();
        f.relay = true;
        if (f.remaining === 0) flowing = between(s, c, f) && flowing;
      }
      continue;
    }
    if (f.remaining > 0) {
      const n = Math.min(f.remaining, end - pos);
      if (f.relay) flowing = relay(s, f, chunk, pos, n) && flowing;
      pos += n;
      f.remaining -= n;
      if (f.remaining === 0) flowing = between(s, c, f) && flowing;
      continue;
    }
    let header = chunk;
    let at = pos;
    const inChunk = f.headerHave === 0 && end - pos >= HEADER_LENGTH;
    if (!inChunk) {
      const n = Math.min(HEADER_LENGTH - f.headerHave, end - pos);
      chunk.copy(f.header, f.headerHave, pos, pos + n);
      f.headerHave += n;
      pos += n;
      if (f.headerHave < HEADER_LENGTH) return flowing;
      f.headerHave = 0;
      header = f.header;
      at = 0;
    }
    const total = header.readUInt32BE(at);
    if (total < MIN_FRAME_LENGTH || total > MAX_FRAME_LENGTH) {
      // Not CMPP any more: nothing can be told apart; cut.
      countAmbiguous(s);
      s.destroy('not CMPP while closing', 'K');
      return false;
    }
    f.relay = decide(s, c, f.up, header.readUInt32BE(at + 4), header.readUInt32BE(at + 8));
    if (inChunk) f.remaining = total;
    else {
      f.remaining = total - HEADER_LENGTH;
      if (f.relay) flowing = relay(s, f, Buffer.from(f.header), 0, HEADER_LENGTH) && flowing;
    }
    if (f.remaining === 0) flowing = between(s, c, f) && flowing;
  }
  return flowing;
}

/** Whether a frame passes: responses owed do, requests don't; TERMINATE and TERMINATE_RESP are Tether's business. */
function decide(s: Session, c: CmppClose, up: boolean, command: number, sequence: number): boolean {
  if (up) {
    if (command === CommandId.TERMINATE_RESP && c.clientAsked && sequence === TETHER_SEQUENCE_ID) {
      c.clientAnswered = true;
      return false;
    }
    if (command === CommandId.TERMINATE) {
      // The client is ending too: it is answered here, its session is over.
      c.clientAnswered = true;
      if (!s.clientClosed && !c.clientTerminateAnswered) {
        c.clientTerminateAnswered = true;
        inject(s, c, c.down, encodeTerminateResp(sequence));
      }
      return false;
    }
    if ((command & RESPONSE_BIT) !== 0) return !s.upstreamClosed && !c.serverAsked;
    return false; // a new request: the client sends it again on its next session
  }
  if (command === CommandId.TERMINATE_RESP && c.serverAsked && sequence === TETHER_SEQUENCE_ID) {
    finish(s);
    return false;
  }
  if (command === CommandId.TERMINATE) {
    c.serverEnding = true;
    if (!s.upstreamClosed) inject(s, c, c.up, encodeTerminateResp(sequence));
    return false;
  }
  if ((command & RESPONSE_BIT) !== 0) return !s.clientClosed;
  return false; // a new request: the gateway sends it again
}
