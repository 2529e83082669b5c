// The runtime socket's connections: HAProxy's CLI session rules over a Unix socket (docs/runtime-socket.md).
// Non-interactive (the default) answers the lines received and closes, as `echo cmd | socat` expects;
// `prompt` toggles the interactive mode (a `> ` after each answer, the connection stays open until `quit`
// or the idle timeout). Bounded: line length, clients, idle time, unread output.
import net from 'node:net';
import { splitLine } from './cli-line.js';
import { runCommand, type CliAnswer, type CliTarget } from './cli-commands.js';

export interface CliServerLimits {
  /** Longest line taken, in bytes; a longer one is answered with an error and the connection closed. */
  maxLineBytes: number;
  /** Clients served at once; one more is told so and closed. */
  maxClients: number;
  /** A client silent this long is disconnected (HAProxy: `stats timeout`, 10 s by default). */
  idleTimeoutMs: number;
}

export const DEFAULT_CLI_LIMITS: CliServerLimits = {
  maxLineBytes: 64 * 1024,
  maxClients: 16,
  idleTimeoutMs: 10_000,
};

/** A connection being closed by us is destroyed if the client hasn't closed its side by then. */
const CLOSE_GRACE_MS = 2000;

/** Output not yet read by the client past which the next command waits for it to read. */
export const OUTPUT_HIGH_WATER = 256 * 1024;

export const TOO_LONG = (limit: number) => `Command line too long (more than ${limit} bytes).\n\n`;
export const TOO_MANY = (limit: number) => `Too many clients on the runtime socket (at most ${limit}).\n`;

export type CliServer = net.Server & {
  /** Connections being served (at most maxClients). */
  clients: Set<net.Socket>;
  /** Every open connection, those being turned away included: destroyed at shutdown. */
  sockets: Set<net.Socket>;
};

/** A net.Server speaking the CLI; the caller listens on a path and closes it. */
export function createCliServer(
  target: CliTarget,
  limits: CliServerLimits = DEFAULT_CLI_LIMITS,
  onError: (error: unknown) => void = () => undefined,
): CliServer {
  const clients = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: `echo cmd | socat` sends its end right after the command; the answer (over IPC from the
  // worker processes, say) may come later, and Node would otherwise end our side at the client's end, unanswered.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (clients.size >= limits.maxClients) {
      // Told and closed; what it sent is read and dropped so its end is seen and the socket freed.
      socket.end(TOO_MANY(limits.maxClients));
      socket.resume();
      socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
      return;
    }
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    serveClient(socket, target, limits, onError);
  });
  return Object.assign(server, { clients, sockets });
}

function serveClient(
  socket: net.Socket,
  target: CliTarget,
  limits: CliServerLimits,
  onError: (error: unknown) => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  let interactive = false;
  let busy = false;
  let ended = false; // the client sent its last byte
  let closing = false;

  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());

  /** Ends our side; input still arriving is read and dropped (so the client's end is seen) for a short grace. */
  const finish = (last = '') => {
    if (closing) return;
    closing = true;
    buffered = Buffer.alloc(0);
    socket.end(last);
    socket.resume();
    socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
  };

  const write = async (text: string) => {
    if (socket.destroyed) return;
    if (!socket.write(text) && socket.writableLength > OUTPUT_HIGH_WATER) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  };

  /** Runs one line's commands in order; false when the client asked to quit. */
  const runLine = async (text: string): Promise<boolean> => {
    for (const words of splitLine(text)) {
      if (socket.destroyed) return false;
      if (words.length === 1 && words[0] === 'quit') return false;
      let answer: CliAnswer;
      if (words.length === 1 && words[0] === 'prompt') {
        interactive = !interactive;
        answer = { text: '' };
      } else {
        answer = await runCommand(words, target).catch((error: unknown) => {
          onError(error);
          return { text: `${errorText(error)}\n` };
        });
      }
      const end = (answer.unterminated ? '' : '\n') + (interactive ? '> ' : '');
      await write(answer.text + end);
    }
    return true;
  };

  const pump = async () => {
    if (busy || closing) return;
    busy = true;
    socket.pause();
    try {
      let answered = false;
      for (;;) {
        const newline = buffered.indexOf(10);
        if (newline < 0) break;
        if (newline > limits.maxLineBytes) return tooLong();
        const text = buffered.subarray(0, newline).toString('utf8');
        buffered = buffered.subarray(newline + 1);
        answered = true;
        if (!(await runLine(text))) return finish();
      }
      if (ended && buffered.length > 0) {
        const text = buffered.toString('utf8');
        buffered = Buffer.alloc(0);
        answered = true;
        await runLine(text);
      }
      // Non-interactive: close once the lines received are answered (HAProxy does the same).
      if ((answered && !interactive) || ended) return finish();
    } finally {
      busy = false;
      if (!closing && !socket.destroyed) socket.resume();
    }
    if (!closing && (ended || buffered.indexOf(10) >= 0)) void pump();
  };

  const tooLong = () => finish(TOO_LONG(limits.maxLineBytes));

  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    // The unfinished last line may not grow past the limit (finished ones are checked as they are taken).
    if (buffered.length - buffered.lastIndexOf(10) - 1 > limits.maxLineBytes) return tooLong();
    void pump();
  });
  socket.on('end', () => {
    ended = true;
    void pump();
  });
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // One line: an answer never carries a line break of its own.
  return message.replace(/[\r\n]+/g, ' ');
}
