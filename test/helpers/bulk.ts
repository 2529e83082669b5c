// Bulk transfers that check every byte: an endless random pattern, a deliberately slow reader that
// verifies as it goes (keeping nothing), and a sender that honours backpressure.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';

const PERIOD = 65_521; // prime, so read boundaries never line up with the pattern

/** The bytes at [offset, offset + length) of an endless pattern; length <= 2 × PERIOD. */
export type Pattern = (offset: number, length: number) => Buffer;

/** An endless byte pattern of one random period. */
export function makePattern(): Pattern {
  const block = randomBytes(PERIOD);
  const tripled = Buffer.concat([block, block, block]);
  return (offset, length) => tripled.subarray(offset % PERIOD, (offset % PERIOD) + length);
}

/** Checks every byte against `pattern`, reading `pauseEvery` bytes then napping `napMs`; resolves at
 *  `total` bytes, or with what arrived when the socket closes first. */
export function slowVerify(
  socket: Socket,
  pattern: Pattern,
  total: number,
  { pauseEvery, napMs }: { pauseEvery: number; napMs: number },
): Promise<{ received: number; mismatchAt: number }> {
  return new Promise((resolve) => {
    let received = 0;
    let mismatchAt = -1;
    let sincePause = 0;
    socket.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += PERIOD) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + PERIOD));
        if (mismatchAt === -1 && !piece.equals(pattern(received + at, piece.length)))
          mismatchAt = received + at;
      }
      received += chunk.length;
      sincePause += chunk.length;
      if (received >= total) resolve({ received, mismatchAt });
      else if (sincePause >= pauseEvery) {
        sincePause = 0;
        socket.pause();
        setTimeout(() => socket.resume(), napMs);
      }
    });
    socket.on('close', () => resolve({ received, mismatchAt }));
  });
}

/** Writes `total` bytes of `pattern` in 64 KB copies (the pattern is shared and queued writes keep
 *  references), waiting for 'drain' whenever a write is refused. */
export async function send(socket: Socket, pattern: Pattern, total: number): Promise<void> {
  let sent = 0;
  while (sent < total) {
    const length = Math.min(64 * 1024, total - sent);
    const ok = socket.write(Buffer.from(pattern(sent, length)));
    sent += length;
    if (!ok) await new Promise<void>((resolve) => socket.once('drain', () => resolve()));
  }
}
