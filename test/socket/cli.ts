// Talks to a runtime socket (Tether's or a real HAProxy's) the ways scripts do: the real `socat` binary, and a
// plain Unix-socket client for the interactive mode and the attacks.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

/** Why socat can't be used here, or undefined when it can. */
export function socatMissing(): string | undefined {
  const probe = spawnSync('socat', ['-V'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? 'socat is not installed (apt-get install -y socat)' : undefined;
}

/** `printf '<input>' | socat stdio <path>`: the answer (async, so an in-process app keeps serving). */
export function socat(path: string, input: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['stdio', `unix-connect:${path}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`socat exited ${code}: ${err}`));
    });
    child.stdin.end(input);
  });
}

/** Sends `input` and half-closes, as `echo … | socat` does; resolves with everything answered until the close. */
export function send(path: string, input: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('connect', () => socket.end(input));
  });
}

/** An open connection for the interactive mode: write lines, read until a text shows up. */
export interface Conversation {
  socket: net.Socket;
  /** Writes `line\n` and resolves with what came back up to and including the next `> ` prompt. */
  ask(line: string): Promise<string>;
  /** Everything received so far and not yet returned by ask. */
  rest(): string;
  closed: Promise<void>;
}

export async function converse(path: string): Promise<Conversation> {
  const socket = net.connect(path);
  let received = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (d) => (received += d));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    closed,
    rest: () => received,
    ask: async (line) => {
      socket.write(`${line}\n`);
      const deadline = Date.now() + 5000;
      while (!received.endsWith('> ')) {
        if (Date.now() > deadline) throw new Error(`no prompt after ${line}: ${JSON.stringify(received)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const answer = received;
      received = '';
      return answer;
    },
  };
}
