// Child process of the reconnect storm (storm.ts): a share of the clients, each bound to one of its
// 127.0.0.X sources. A client is "ready" once its SUBMIT on the current connection was answered.
// During a storm (after `arm`) a ready client whose connection closes is "affected": it reconnects
// after a random 0..JITTER ms, retries every RETRY ms on any failure (refused, closed or unanswered
// before the SUBMIT_RESP), and is "recovered" when a SUBMIT on a new connection is answered.
import net from 'node:net';
import { SUBMIT_RESP, SUBMIT_RESP_LENGTH, submitTemplate } from './cmpp.js';
import { announce, serve } from './ipc.js';

const JITTER_MS = 200;
const RETRY_MS = 200;
/** An attempt whose SUBMIT is not answered in this time is a failure (closed and retried). */
const ANSWER_TIMEOUT_MS = 5000;
/** Connections opening at once while setting up (the storm itself is not limited). */
const SETUP_IN_FLIGHT = 200;

interface Client {
  source: string;
  socket: net.Socket | null;
  ready: boolean;
  affected: boolean;
  recovered: boolean;
  cutAt: number;
  sequence: number;
  timer: NodeJS.Timeout | null;
}

const template = submitTemplate();
let port = 0;
let phase: 'setup' | 'storm' | 'closing' = 'setup';
let clients: Client[] = [];
const round = { affected: 0, recovered: 0, attempts: 0, failures: 0, recut: 0, lastRecoveredAt: 0 };
/** Per affected client: cut → answered again (ms); at most one entry per client per round. */
let downtimes: number[] = [];
const setupWaiters: Array<() => void> = [];
let setupInFlight = 0;
let setupQueue: Client[] = [];

function attempt(client: Client, holdsSetupSlot = false): void {
  client.timer = null;
  if (phase === 'closing') return;
  if (phase === 'storm') round.attempts++;
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: client.source });
  client.socket = socket;
  client.ready = false;
  let answered = false;
  let received = Buffer.alloc(0);
  const sequence = (client.sequence = (client.sequence + 1) >>> 0);
  socket.setNoDelay(true);
  socket.on('connect', () => {
    const frame = Buffer.from(template);
    frame.writeUInt32BE(sequence, 8);
    socket.write(frame);
  });
  const answerTimer = setTimeout(() => socket.destroy(), ANSWER_TIMEOUT_MS);
  socket.on('data', (chunk: Buffer) => {
    if (answered) return;
    received = Buffer.concat([received, chunk]);
    if (received.length < SUBMIT_RESP_LENGTH) return;
    const ok =
      received.readUInt32BE(4) === SUBMIT_RESP &&
      received.readUInt32BE(8) === sequence &&
      received.readUInt32BE(0) === SUBMIT_RESP_LENGTH;
    if (!ok) return void socket.destroy();
    answered = true;
    clearTimeout(answerTimer);
    onReady(client);
    if (holdsSetupSlot) {
      holdsSetupSlot = false;
      setupDone();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearTimeout(answerTimer);
    if (client.socket !== socket || phase === 'closing') return;
    client.socket = null;
    client.ready = false;
    if (!answered) {
      // Refused, reset or closed before the answer: try again shortly.
      if (phase === 'storm') round.failures++;
      if (holdsSetupSlot) {
        holdsSetupSlot = false;
        setupDone();
      }
      return schedule(client, RETRY_MS);
    }
    if (phase !== 'storm') return schedule(client, RETRY_MS);
    if (client.recovered) {
      // Cut again after it had recovered: it counts again until it is back.
      client.recovered = false;
      round.recovered--;
      round.recut++;
    } else if (!client.affected) {
      client.affected = true;
      round.affected++;
    }
    client.cutAt = Date.now();
    schedule(client, Math.random() * JITTER_MS);
  });
}

function schedule(client: Client, ms: number): void {
  if (client.timer === null && phase !== 'closing') client.timer = setTimeout(attempt, ms, client);
}

function onReady(client: Client): void {
  client.ready = true;
  if (phase === 'storm' && client.affected && !client.recovered) {
    client.recovered = true;
    round.recovered++;
    const now = Date.now();
    round.lastRecoveredAt = now;
    downtimes.push(now - client.cutAt);
  }
}

function setupDone(): void {
  setupInFlight--;
  pumpSetup();
}

function pumpSetup(): void {
  while (setupInFlight < SETUP_IN_FLIGHT && setupQueue.length > 0) {
    setupInFlight++;
    attempt(setupQueue.pop()!, true);
  }
  if (setupInFlight === 0 && setupQueue.length === 0) {
    for (const resolve of setupWaiters.splice(0)) resolve();
  }
}

/** Opens `count` clients over `sources` (round robin) to 127.0.0.1:port; resolves when every one is ready. */
function open(args: { port: number; count: number; sources: string[] }): Promise<{ ready: number }> {
  port = args.port;
  phase = 'setup';
  clients = Array.from({ length: args.count }, (_, i) => ({
    source: args.sources[i % args.sources.length],
    socket: null,
    ready: false,
    affected: false,
    recovered: false,
    cutAt: 0,
    sequence: 0,
    timer: null,
  }));
  setupQueue = [...clients].reverse();
  const done = new Promise<void>((resolve) => setupWaiters.push(resolve));
  pumpSetup();
  // A failed setup attempt retries on its timer without holding a setup slot; wait for every client.
  return done.then(async () => {
    while (clients.some((c) => !c.ready)) await new Promise((r) => setTimeout(r, 50));
    return { ready: clients.length };
  });
}

function arm(): void {
  Object.assign(round, { affected: 0, recovered: 0, attempts: 0, failures: 0, recut: 0, lastRecoveredAt: 0 });
  downtimes = [];
  for (const c of clients) Object.assign(c, { affected: false, recovered: false });
  phase = 'storm';
}

function stats() {
  let ready = 0;
  for (const c of clients) if (c.ready) ready++;
  return { clients: clients.length, ready, ...round, downtimes };
}

async function closeAll(): Promise<void> {
  phase = 'closing';
  for (const c of clients) {
    if (c.timer) clearTimeout(c.timer);
    c.socket?.destroy();
  }
  clients = [];
  setupQueue = [];
  setupInFlight = 0;
}

serve({ open, arm, stats, close: closeAll });
announce({ pid: process.pid });
