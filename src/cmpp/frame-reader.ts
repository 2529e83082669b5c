// Streaming CMPP frame reader for the relay: it watches the bytes as they pass and never holds or
// copies them (docs/cmpp.md, "Frame reader").
//
// API (all of it):
//   const reader = new CmppFrameReader(sink, context);  // one per connection direction
//   reader.feed(chunk, offset, length);                   // every read, in order, as it is forwarded
//   reader.notCmpp                                        // true once a bad Total_Length was seen
//   reader.reset();                                       // start over (e.g. a reused connection object)
//   reader.frameRemainder()                               // bytes of the frame in progress still to come
//
// A caller that parses most whole frames itself (the relay's inspection) hands the reader only the rest:
//   reader.betweenFrames                                  // no frame in progress: the next byte starts one
//   pos = reader.step(chunk, pos, end);                   // one frame, or the rest of the one in progress
//
// `sink` is one object shared by every reader of a kind (no closures per connection); `context` is
// whatever the sink needs to tell connections apart (a session). For each frame the reader calls
// `sink.onFrame(context, commandId, sequenceId, buf, bodyOffset, bodyBytes, totalLength)` exactly once,
// as soon as the header and `sink.bodyPrefix(commandId)` body bytes (clamped to the body length and to
// MAX_BODY_PREFIX) have passed. `buf[bodyOffset .. bodyOffset + bodyBytes)` is the start of the body,
// at least the prefix asked for: either the chunk being fed or, when that prefix straddled reads, the
// reader's own small copy. `buf` is valid only during the call: never keep it. The rest of the body
// may not have arrived yet.
//
// `commandId` and `sequenceId` (here and in bodyPrefix) are the header's fields as SIGNED 32-bit integers: a
// response's id is negative (compare with `CommandId.X | 0`; `>>> 0` gives the unsigned id). Unsigned ids
// >= 2^31 are not small integers to V8: every call passing one would box a heap number, per frame.
//
// A Total_Length outside 12..4096 means the bytes are not CMPP: the reader calls
// `sink.onNotCmpp(context, totalLength)` once and ignores everything after (the relay passes the
// bytes on untouched). State per reader: a few numbers and, only if a wanted prefix ever straddles
// two reads, one buffer of MAX_BODY_PREFIX bytes. Nothing is allocated per frame or per chunk.
import { BODY_PREFIX } from './codec.js';
import { HEADER_LENGTH, MAX_FRAME_LENGTH, MIN_FRAME_LENGTH } from './commands.js';

/** The most body bytes a reader ever holds across reads: enough for every reader in codec.ts. */
export const MAX_BODY_PREFIX = Math.max(...Object.values(BODY_PREFIX));

/** Big-endian signed 32-bit number at `at` (the caller has checked the 4 bytes are there). */
function int32(buf: Buffer, at: number): number {
  return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
}

export interface FrameSink<C> {
  /** Body bytes the sink needs to see before onFrame (0 = the header is enough); commandId signed. */
  bodyPrefix(commandId: number): number;
  onFrame(
    context: C,
    commandId: number,
    sequenceId: number,
    buf: Buffer,
    bodyOffset: number,
    bodyBytes: number,
    totalLength: number,
  ): void;
  /** `totalLength` unsigned, as on the wire. */
  onNotCmpp(context: C, totalLength: number): void;
}

export class CmppFrameReader<C> {
  private readonly sink: FrameSink<C>;
  private readonly context: C;
  /** Header bytes of the current frame seen so far when the header straddles reads (0..11). */
  private headerSeen = 0;
  /** The current header, each field a signed 32-bit integer (small integers to V8, never boxed). */
  private totalLength = 0;
  private commandId = 0;
  private sequenceId = 0;
  /** Body bytes of the current frame still to pass by unread. */
  private skip = 0;
  /** A wanted body prefix that straddles reads: its size, the bytes copied so far, the body length. */
  private prefixWanted = 0;
  private prefixHave = 0;
  private bodyLength = 0;
  private prefix: Buffer | undefined;
  private _notCmpp = false;

  constructor(sink: FrameSink<C>, context: C) {
    this.sink = sink;
    this.context = context;
  }

  get notCmpp(): boolean {
    return this._notCmpp;
  }

  /**
   * Bytes of the frame in progress still to come: 0 between frames, n > 0 of its body, or -n while its header is
   * incomplete (n header bytes missing, the body not known yet). A relay that must stop at a frame boundary (the
   * lossless close, runtime/cmpp-close.ts) lets that many bytes pass first. Meaningless once notCmpp.
   */
  frameRemainder(): number {
    if (this.headerSeen > 0) return -(HEADER_LENGTH - this.headerSeen);
    if (this.prefixWanted > 0) return this.bodyLength - this.prefixHave;
    return this.skip;
  }

  reset(): void {
    this.headerSeen = 0;
    this.skip = 0;
    this.prefixWanted = 0;
    this.prefixHave = 0;
    this._notCmpp = false;
  }

  /** No frame in progress: the next byte fed starts a header. */
  get betweenFrames(): boolean {
    return this.headerSeen === 0 && this.skip === 0 && this.prefixWanted === 0;
  }

  feed(chunk: Buffer, offset: number, length: number): void {
    this.run(chunk, offset, offset + length, false);
  }

  /**
   * Feeds `chunk[pos..end)` until one frame has passed (the frame in progress, or the next one) and returns where
   * it stopped: after that frame, or `end` (the frame continues in the next read, or the bytes are not CMPP).
   * Bytes must still be fed in order, each exactly once.
   */
  step(chunk: Buffer, pos: number, end: number): number {
    return this.run(chunk, pos, end, true);
  }

  private run(chunk: Buffer, start: number, end: number, once: boolean): number {
    if (this._notCmpp) return end;
    let pos = start;
    while (pos < end) {
      if (once && pos > start && this.headerSeen === 0 && this.skip === 0 && this.prefixWanted === 0)
        return pos;
      if (this.skip > 0) {
        const n = end - pos < this.skip ? end - pos : this.skip;
        this.skip -= n;
        pos += n;
        continue;
      }
      if (this.prefixWanted > 0) {
        pos = this.collectPrefix(chunk, pos, end);
        continue;
      }
      let total: number;
      let commandId: number;
      let sequenceId: number;
      if (this.headerSeen === 0 && end - pos >= HEADER_LENGTH) {
        // Plain byte arithmetic: Buffer#readUInt32BE validates its offset on every call (a third of the
        // reader's time at 16 frames per read). Locals: the fields are written only when a frame straddles reads.
        total = int32(chunk, pos);
        commandId = int32(chunk, pos + 4);
        sequenceId = int32(chunk, pos + 8);
        pos += HEADER_LENGTH;
      } else {
        pos = this.collectHeader(chunk, pos, end);
        if (this.headerSeen < HEADER_LENGTH) return end;
        this.headerSeen = 0;
        total = this.totalLength;
        commandId = this.commandId;
        sequenceId = this.sequenceId;
      }
      // Signed: a length >= 2^31 is negative here, below MIN_FRAME_LENGTH.
      if (total < MIN_FRAME_LENGTH || total > MAX_FRAME_LENGTH) {
        this._notCmpp = true;
        this.sink.onNotCmpp(this.context, total >>> 0);
        return end;
      }
      const bodyLength = total - HEADER_LENGTH;
      let want = this.sink.bodyPrefix(commandId);
      if (want > bodyLength) want = bodyLength;
      if (want > MAX_BODY_PREFIX) want = MAX_BODY_PREFIX;
      const available = end - pos;
      if (available >= bodyLength) {
        // The whole frame is here (the usual case): past it at once, no skip state.
        this.sink.onFrame(this.context, commandId, sequenceId, chunk, pos, bodyLength, total);
        pos += bodyLength;
        continue;
      }
      if (available >= want) {
        this.skip = bodyLength;
        this.sink.onFrame(this.context, commandId, sequenceId, chunk, pos, available, total);
        continue;
      }
      // The wanted prefix straddles reads: keep a bounded copy of what is here.
      this.prefix ??= Buffer.alloc(MAX_BODY_PREFIX);
      chunk.copy(this.prefix, 0, pos, end);
      this.prefixHave = available;
      this.prefixWanted = want;
      this.bodyLength = bodyLength;
      this.totalLength = total;
      this.commandId = commandId;
      this.sequenceId = sequenceId;
      pos = end;
    }
    return pos;
  }

  /** Accumulates header bytes into the three numbers, one byte at a time (headers straddle reads rarely). */
  private collectHeader(chunk: Buffer, pos: number, end: number): number {
    while (this.headerSeen < HEADER_LENGTH && pos < end) {
      const byte = chunk[pos++];
      const i = this.headerSeen++;
      if (i < 4) this.totalLength = (i === 0 ? 0 : this.totalLength << 8) | byte;
      else if (i < 8) this.commandId = (i === 4 ? 0 : this.commandId << 8) | byte;
      else this.sequenceId = (i === 8 ? 0 : this.sequenceId << 8) | byte;
    }
    return pos;
  }

  private collectPrefix(chunk: Buffer, pos: number, end: number): number {
    const prefix = this.prefix as Buffer;
    const missing = this.prefixWanted - this.prefixHave;
    const n = end - pos < missing ? end - pos : missing;
    chunk.copy(prefix, this.prefixHave, pos, pos + n);
    this.prefixHave += n;
    pos += n;
    if (this.prefixHave === this.prefixWanted) {
      this.skip = this.bodyLength - this.prefixWanted;
      this.prefixWanted = 0;
      const have = this.prefixHave;
      this.prefixHave = 0;
      this.sink.onFrame(this.context, this.commandId, this.sequenceId, prefix, 0, have, this.totalLength);
    }
    return pos;
  }
}
