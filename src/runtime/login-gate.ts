// What a session of a backend with CMPP limits does at its CONNECT (docs/cmpp-session-control.md): it asks the
// admission (login-admission.ts; locally, or the main process over IPC from a worker) and, admitted, goes on to
// elect and connect a server; refused, Tether answers the CONNECT itself with CONNECT_RESP status 5 in the
// client's version and closes, and no server ever sees it. Refusals for a login rate go out after a delay
// (RATE_REFUSAL_DELAY_MS), from one queue with one timer.
import { performance } from 'node:perf_hooks';
import { encodeConnectResp } from '../cmpp/codec.js';
import type { BackendCmpp } from '../schema/snapshot.js';
import { LoginAdmission, loginRequest, type LoginRequest, type LoginVerdict } from './login-admission.js';
import type { Session } from './session.js';

/** How an admission is asked: the verdict comes through `done` (at once locally, later over IPC). */
export interface LoginGate {
  /** `unanswered`: the owner of the counts didn't answer in time (main process busy or gone). */
  admit(request: LoginRequest, done: (verdict: LoginVerdict | 'unanswered') => void): void;
  /** An admitted session ended. */
  release(backend: string, account: string): void;
}

/** One-process mode: the counts live here. */
export class LocalLoginGate implements LoginGate {
  constructor(readonly admission = new LoginAdmission()) {}

  admit(request: LoginRequest, done: (verdict: LoginVerdict) => void): void {
    done(this.admission.admit('local', request, performance.now()));
  }

  release(backend: string, account: string): void {
    this.admission.release('local', backend, account);
  }
}

/** CONNECT_RESP status of a refusal: "too many connections", as gateways answer past their own per-account cap. */
export const STATUS_TOO_MANY_CONNECTIONS = 5;
/** A login over a rate hears its refusal this late, so a client reconnecting in a loop slows down. */
export const RATE_REFUSAL_DELAY_MS = 1000;
/** Refusals waiting for their delay; past it a rate refusal is answered at once. */
export const MAX_DELAYED_REFUSALS = 10_000;
/** How long a refused client has to close after the CONNECT_RESP before its socket is cut (by the idle sweep). */
export const REFUSAL_LINGER_MS = 2000;

/**
 * The CONNECT_RESP refusing a login, in the layout of the version the client asked for (2.0: 1-byte Status,
 * 30 bytes; 3.0: 4-byte Status, 33 bytes), AuthenticatorISMG all zeros (Tether doesn't know the secret, and
 * gateways answer errors so), the CONNECT's Sequence_Id.
 */
export function refusalFrame(versionByte: number, sequenceId: number): Buffer {
  return encodeConnectResp({
    sequenceId,
    status: STATUS_TOO_MANY_CONNECTIONS,
    version: versionByte >= 0x30 ? '3.0' : '2.0',
  });
}

interface Delayed {
  session: Session;
  frame: Buffer;
  dueAt: number;
}

/** Rate refusals waiting for their delay: one FIFO (the delay is the same for all, so it is in due order), one timer. */
export class DelayedRefusals {
  private queue: Delayed[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly delayMs = RATE_REFUSAL_DELAY_MS,
    private readonly limit = MAX_DELAYED_REFUSALS,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Queues the refusal; false when the queue is full (the caller answers at once). */
  add(session: Session, frame: Buffer): boolean {
    if (this.size >= this.limit) return false;
    this.queue.push({ session, frame, dueAt: performance.now() + this.delayMs });
    this.arm();
    return true;
  }

  private arm(): void {
    if (this.timer !== null || this.size === 0) return;
    const wait = Math.max(0, this.queue[this.head].dueAt - performance.now());
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head].dueAt <= now) {
      const { session, frame } = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Delayed;
      session.refuseLogin(frame, 'login rate');
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  /** Answers everything now (the runtime closes). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (let i = this.head; i < this.queue.length; i++) {
      const { session, frame } = this.queue[i];
      session.refuseLogin(frame, 'login rate');
    }
    this.queue = [];
    this.head = 0;
  }
}

/** The session's CONNECT named `account` on a backend with limits: ask, then connect or refuse. */
export function admitLogin(
  gate: LoginGate,
  refusals: DelayedRefusals,
  session: Session,
  cmpp: BackendCmpp,
  account: string,
  connect: (session: Session) => void,
): void {
  const backend = session.backend.name;
  gate.admit(loginRequest(backend, cmpp, account, session.clientAddress), (verdict) => {
    const gone = session.closeReason !== '' || session.clientClosed;
    if (verdict === 'ok') {
      // Gone while the verdict was on its way: the slot is given back at once.
      if (gone) gate.release(backend, account);
      else {
        session.admittedAccount = account;
        connect(session);
      }
      return;
    }
    if (gone) return;
    if (verdict === 'unanswered') {
      session.destroy('login admission unanswered', 'P');
      return;
    }
    const ins = session.inspection;
    const frame = refusalFrame(ins?.versionByte ?? 0, ins?.connectSequenceId ?? 0);
    const counters = ins?.account;
    if (verdict === 'cap') {
      if (counters) counters.refusedCap++;
      if (ins?.frontend) ins.frontend.refusedCap++;
      session.refuseLogin(frame, 'account cap');
      return;
    }
    if (counters) counters.refusedRate++;
    if (ins?.frontend) ins.frontend.refusedRate++;
    if (!refusals.add(session, frame)) session.refuseLogin(frame, 'login rate');
  });
}
