// Login admission for backends with CMPP limits (docs/cmpp-session-control.md): per-account connection caps and
// login rate limits (token buckets per account and per source address). Plain logic over plain data, no I/O: the
// one process that owns the counts runs it — the runtime itself in one-process mode, the main process with
// worker processes (a worker asks over IPC, src/workers/), so a cap holds for the whole appliance.
//
// Every slot belongs to a holder (the local runtime, or a worker): when a worker dies, its slots go with it.
import type { BackendCmpp, LoginRate } from '../schema/snapshot.js';

/** `ok`: admitted (a slot is held until released); `cap`: the account is at its cap; `rate`: over a login rate. */
export type LoginVerdict = 'ok' | 'cap' | 'rate';

/** One CONNECT to decide, with the limits that apply to it already resolved (plain data: crosses IPC). */
export interface LoginRequest {
  backend: string;
  account: string;
  source: string;
  /** The account's cap on this backend; -1: none. */
  cap: number;
  accountRate: LoginRate | null;
  sourceRate: LoginRate | null;
}

/** Token buckets kept per map (per account, per source); past it the least recently used is forgotten. */
export const BUCKETS_LIMIT = 100_000;

const overridesOf = new WeakMap<BackendCmpp, Map<string, NonNullable<BackendCmpp['accounts']>[number]>>();

/** The limits of `account` on a backend: its override where there is one, else the backend's own. */
export function loginRequest(
  backend: string,
  cmpp: BackendCmpp,
  account: string,
  source: string,
): LoginRequest {
  let overrides = overridesOf.get(cmpp);
  if (overrides === undefined) {
    // Built once per config object (a new apply gives a new one): a lookup per login, not a scan of 1,000.
    overrides = new Map((cmpp.accounts ?? []).map((a) => [wireAccount(a.account), a]));
    overridesOf.set(cmpp, overrides);
  }
  const own = overrides.get(account);
  return {
    backend,
    account,
    source,
    cap: own?.maxConnections ?? cmpp.maxConnectionsPerAccount ?? -1,
    accountRate: own?.loginRate ?? cmpp.loginRate?.perAccount ?? null,
    sourceRate: cmpp.loginRate?.perSource ?? null,
  };
}

/**
 * An account of the config as the inspection reads it from a CONNECT: the config names it in UTF-8 (1 to 6 bytes,
 * RULES.cmppLimits.account), the CONNECT carries those bytes in Source_Addr, NUL padded, read byte by byte (latin1)
 * with the padding stripped (readConnectAccount). ASCII accounts are unchanged.
 */
export function wireAccount(account: string): string {
  const bytes = Buffer.from(account, 'utf8');
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.toString('latin1', 0, end);
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key, bounded: a map in least-recently-used order (a touched key moves to the end). */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit = BUCKETS_LIMIT) {}

  /** Takes one token of `key`'s bucket (`rate.logins` tokens, refilled over `rate.per` ms); false when empty. */
  take(key: string, rate: LoginRate, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      // A forgotten bucket was full or nearly so (the oldest touched): a fresh full one is what it had become.
      if (this.buckets.size >= this.limit) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: rate.logins, at: now };
    } else {
      this.buckets.delete(key);
      const refill = ((now - bucket.at) * rate.logins) / rate.per;
      bucket.tokens = Math.min(rate.logins, bucket.tokens + Math.max(0, refill));
      bucket.at = now;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export class LoginAdmission {
  /** Live admitted sessions per "backend\0account", all holders together. */
  private readonly live = new Map<string, number>();
  /** The same per holder, so a holder that goes away (a dead worker) gives its slots back. */
  private readonly held = new Map<string | number, Map<string, number>>();
  private readonly accountBuckets: TokenBuckets;
  private readonly sourceBuckets: TokenBuckets;

  constructor(bucketsLimit = BUCKETS_LIMIT) {
    this.accountBuckets = new TokenBuckets(bucketsLimit);
    this.sourceBuckets = new TokenBuckets(bucketsLimit);
  }

  /**
   * Rates first (the source's bucket, then the account's, stopping at an empty one), then the cap: a login refused
   * at the cap has taken its tokens, so a client retrying at the cap in a tight loop is slowed down (its refusals
   * come late) instead of answered at once every time.
   */
  admit(holder: string | number, request: LoginRequest, now: number): LoginVerdict {
    const key = `${request.backend}\0${request.account}`;
    if (
      request.sourceRate !== null &&
      !this.sourceBuckets.take(`${request.backend}\0${request.source}`, request.sourceRate, now)
    )
      return 'rate';
    if (request.accountRate !== null && !this.accountBuckets.take(key, request.accountRate, now))
      return 'rate';
    if (request.cap >= 0 && (this.live.get(key) ?? 0) >= request.cap) return 'cap';
    this.live.set(key, (this.live.get(key) ?? 0) + 1);
    let mine = this.held.get(holder);
    if (mine === undefined) this.held.set(holder, (mine = new Map()));
    mine.set(key, (mine.get(key) ?? 0) + 1);
    return 'ok';
  }

  /** An admitted session ended. */
  release(holder: string | number, backend: string, account: string): void {
    const key = `${backend}\0${account}`;
    const mine = this.held.get(holder);
    const count = mine?.get(key);
    if (mine === undefined || count === undefined) return;
    if (count <= 1) mine.delete(key);
    else mine.set(key, count - 1);
    this.drop(key, 1);
  }

  /** Every slot of `holder` (a worker that died); returns how many. */
  releaseHolder(holder: string | number): number {
    const mine = this.held.get(holder);
    if (mine === undefined) return 0;
    this.held.delete(holder);
    let total = 0;
    for (const [key, count] of mine) {
      this.drop(key, count);
      total += count;
    }
    return total;
  }

  /** Live admitted sessions of an account on a backend. */
  count(backend: string, account: string): number {
    return this.live.get(`${backend}\0${account}`) ?? 0;
  }

  private drop(key: string, count: number): void {
    const left = (this.live.get(key) ?? 0) - count;
    if (left > 0) this.live.set(key, left);
    else this.live.delete(key);
  }
}
