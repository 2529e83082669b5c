// Whole-frame splitting for the health probe and the simulators: they read few frames and may
// allocate; the relay uses src/cmpp/frame-reader.ts instead.
import { HEADER_LENGTH } from './commands.js';
import { isSaneLength } from './codec.js';

export class FrameAssembler {
  private pending: Buffer | undefined;

  /**
   * Calls `onFrame` for each whole frame in the bytes so far; returns false (and drops everything)
   * on a Total_Length outside 12..4096: the peer does not speak CMPP. At most one frame is held.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): boolean {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    while (buf.length - pos >= HEADER_LENGTH) {
      const total = buf.readUInt32BE(pos);
      if (!isSaneLength(total)) return false;
      if (buf.length - pos < total) break;
      onFrame(buf.subarray(pos, pos + total));
      pos += total;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    return true;
  }
}

/** Sequence ids for one connection's requests: 1, 2, ... wrapping within 32 bits, skipping 0. */
export class SequenceCounter {
  private last = 0;
  next(): number {
    this.last = this.last >= 0xffffffff ? 1 : this.last + 1;
    return this.last;
  }
}
