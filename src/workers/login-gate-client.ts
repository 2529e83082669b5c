// A worker's login gate (docs/cmpp-session-control.md, "Across workers"): the per-account counts and the login
// buckets live in the main process, so a cap holds for the appliance. Each CONNECT on a backend with limits is one
// IPC round trip (logins are rare next to the traffic they carry); each admitted session's end is one message.
import type { LoginGate } from '../runtime/login-gate.js';
import type { LoginRequest, LoginVerdict } from '../runtime/login-admission.js';
import type { FromWorker } from './protocol.js';

/** A login whose verdict hasn't come back in this long is closed unanswered (the main process is stuck). */
export const ADMIT_TIMEOUT_MS = 5000;
/** Logins waiting for the main process at most; past it a login is closed unanswered. */
export const MAX_WAITING_ADMISSIONS = 10_000;

interface Waiting {
  request: LoginRequest;
  done: (verdict: LoginVerdict | 'unanswered') => void;
  at: number;
  /** Given up on: a late `ok` is handed back at once. */
  timedOut: boolean;
}

export class RemoteLoginGate implements LoginGate {
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly send: (message: FromWorker) => boolean,
    private readonly timeoutMs = ADMIT_TIMEOUT_MS,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), Math.min(1000, timeoutMs));
    this.sweepTimer.unref();
  }

  admit(request: LoginRequest, done: (verdict: LoginVerdict | 'unanswered') => void): void {
    if (this.waiting.size >= MAX_WAITING_ADMISSIONS) return done('unanswered');
    const id = ++this.nextId;
    this.waiting.set(id, { request, done, at: Date.now(), timedOut: false });
    if (!this.send({ t: 'admit', id, request })) {
      this.waiting.delete(id);
      done('unanswered');
    }
  }

  release(backend: string, account: string): void {
    this.send({ t: 'release', backend, account });
  }

  /** The main process's verdict on admission `id`. */
  answered(id: number, verdict: LoginVerdict): void {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    if (!waiting.timedOut) waiting.done(verdict);
    else if (verdict === 'ok') this.release(waiting.request.backend, waiting.request.account);
  }

  private sweep(now: number): void {
    for (const [id, waiting] of this.waiting) {
      if (waiting.timedOut) {
        // Never answered at all: the main process has forgotten it (it hands back a dead worker's slots itself).
        if (now - waiting.at > 12 * this.timeoutMs) this.waiting.delete(id);
      } else if (now - waiting.at > this.timeoutMs) {
        waiting.timedOut = true;
        waiting.done('unanswered');
      }
    }
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }
}
