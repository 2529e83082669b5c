// CMPP inspection counters (docs/cmpp-inspection.md): one CmppCounters per inspected frontend, per server
// that carried inspected traffic and per SP account. Everything is a plain number or a fixed array of
// numbers, so stats of several processes merge by adding them; percentiles are recomputed from the
// merged histogram (latencyPercentile). The account table is bounded: past ACCOUNTS_LIMIT accounts, a new one
// takes the row of the oldest account no gateway let in, else is counted under OVERFLOW_ACCOUNT.
import { CommandId, formatVersionByte, RESULT_THROTTLED } from '../cmpp/commands.js';
import type { CmppAccountStats, CmppCommandCounts, CmppStats } from './types.js';

/** The commands counted one by one; everything else is `other`. */
export const CMPP_COMMANDS = [
  'connect',
  'connectResp',
  'submit',
  'submitResp',
  'deliver',
  'deliverResp',
  'activeTest',
  'activeTestResp',
  'terminate',
  'terminateResp',
  'other',
] as const;
export type CmppCommandKey = (typeof CMPP_COMMANDS)[number];
const OTHER_SLOT = CMPP_COMMANDS.length - 1;
const CONNECT_RESP_SLOT = CMPP_COMMANDS.indexOf('connectResp');
/** Where server -> client frames start in CmppCounters.frames. */
export const DOWN_OFFSET = CMPP_COMMANDS.length;

/**
 * Slot by the id's low byte, +256 for a response (CommandId ids use no other bits); OTHER_SLOT elsewhere. Read
 * through commandSlot(), or directly by a caller that knows the id has no other bits (the relay's scan()).
 */
export const SLOT_BY_ID = new Uint8Array(512).fill(OTHER_SLOT);
for (const [slot, id] of [
  CommandId.CONNECT,
  CommandId.CONNECT_RESP,
  CommandId.SUBMIT,
  CommandId.SUBMIT_RESP,
  CommandId.DELIVER,
  CommandId.DELIVER_RESP,
  CommandId.ACTIVE_TEST,
  CommandId.ACTIVE_TEST_RESP,
  CommandId.TERMINATE,
  CommandId.TERMINATE_RESP,
].entries())
  SLOT_BY_ID[(id & 0xff) | ((id >>> 23) & 0x100)] = slot;

/**
 * Command id -> slot in CMPP_COMMANDS: one table read, nothing allocated or looked up by key. Takes the id
 * signed (as the frame reader hands it over: small integers to V8) or unsigned.
 */
export function commandSlot(commandId: number): number {
  const id = commandId | 0;
  return (id & 0x7fffff00) === 0 ? SLOT_BY_ID[(id & 0xff) | ((id >>> 23) & 0x100)] : OTHER_SLOT;
}

/**
 * Upper bounds (ms) of the SUBMIT -> SUBMIT_RESP latency buckets; one more bucket holds everything slower.
 * Gateways answer in 1-100 ms; a throttled or stuck gateway in seconds.
 */
export const LATENCY_BOUNDS_MS = [
  0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000,
  10000, 30000, 60000,
] as const;

/** CONNECT_RESP statuses counted by code; higher codes are counted under `other`. */
export const CONNECT_STATUS_CODES = 10;

/** The most SP accounts with rows of their own. */
export const ACCOUNTS_LIMIT = 10_000;
/** The row that counts every account past ACCOUNTS_LIMIT. */
export const OVERFLOW_ACCOUNT = '*other*';

/** The latency bucket of `ms`: the first whose upper bound it doesn't exceed (loopback answers: the first few). */
export function latencyBucket(ms: number): number {
  const bounds = LATENCY_BOUNDS_MS;
  let i = 0;
  while (i < bounds.length && ms > bounds[i]) i++;
  return i;
}

/**
 * A session's own counts since they were last folded into its frontend's, server's and account's counters
 * (CmppCounters.addTally): the relay adds one number per frame here instead of three, one per counters object.
 * Layout of the Float64Array: frames by slot (as CmppCounters.frames), SUBMIT results, latency buckets, the
 * latency sum (ms), untracked requests.
 */
export const TALLY_SUBMIT_OK = 2 * DOWN_OFFSET;
export const TALLY_SUBMIT_THROTTLED = TALLY_SUBMIT_OK + 1;
export const TALLY_SUBMIT_OTHER = TALLY_SUBMIT_OK + 2;
export const TALLY_LATENCY = TALLY_SUBMIT_OK + 3;
export const TALLY_LATENCY_SUM = TALLY_LATENCY + LATENCY_BOUNDS_MS.length + 1;
export const TALLY_UNTRACKED = TALLY_LATENCY_SUM + 1;
export const TALLY_LENGTH = TALLY_UNTRACKED + 1;

export class CmppCounters {
  /** Inspected sessions started. */
  sessions = 0;
  /** Sessions whose bytes turned out not to be CMPP (then relayed uninspected). */
  notCmpp = 0;
  /**
   * Frames by command slot, client -> server at 0.., server -> client at DOWN_OFFSET..: one array, so the relay
   * counts a frame with one indexed add whatever its direction. `up` and `down` are views of its two halves.
   */
  readonly frames = new Float64Array(2 * DOWN_OFFSET);
  readonly up = this.frames.subarray(0, DOWN_OFFSET);
  readonly down = this.frames.subarray(DOWN_OFFSET);
  submitOk = 0;
  submitThrottled = 0;
  submitOther = 0;
  /** CONNECT_RESP by status 0..CONNECT_STATUS_CODES-1, the last slot every higher status. */
  readonly connectStatus = new Float64Array(CONNECT_STATUS_CODES + 1);
  readonly latency = new Float64Array(LATENCY_BOUNDS_MS.length + 1);
  /** Sum of the latencies counted (ms), for Prometheus' histogram _sum. */
  latencySumMs = 0;
  /** Requests not matched to an answer because a session's table was full. */
  untracked = 0;
  /**
   * Messages (SUBMIT, DELIVER, ...) in flight when a session ended: the client or the gateway may send them again,
   * or may have lost them (docs/cmpp-session-control.md).
   */
  ambiguous = 0;
  /** Accounts only: the version byte of the last CONNECT (0: none seen) and when it was seen (epoch ms, 0: never). */
  private lastVersionByte = 0;
  lastConnectAt = 0;
  get versionByte(): number {
    return this.lastVersionByte;
  }
  /** Set per CONNECT naming the account (never per frame): stamps it, so worker processes' rows merge by recency. */
  set versionByte(value: number) {
    this.lastVersionByte = value;
    this.lastConnectAt = Date.now();
  }
  /** CONNECTs refused by Tether (login-gate.ts): at the account's cap, over a login rate. */
  refusedCap = 0;
  refusedRate = 0;

  submitResult(result: number): void {
    if (result === 0) this.submitOk++;
    else if (result === RESULT_THROTTLED) this.submitThrottled++;
    else this.submitOther++;
  }

  connectResult(status: number): void {
    this.connectStatus[status >= 0 && status < CONNECT_STATUS_CODES ? status : CONNECT_STATUS_CODES]++;
  }

  /** One SUBMIT answered after `ms`; the relay computes the bucket once for all the counters it adds to. */
  submitLatency(ms: number, bucket = latencyBucket(ms)): void {
    this.latency[bucket]++;
    this.latencySumMs += ms;
  }

  /** Adds a session's tally (TALLY_* layout) to these counters. */
  addTally(tally: Float64Array): void {
    const frames = this.frames;
    for (let i = 0; i < frames.length; i++) frames[i] += tally[i];
    this.submitOk += tally[TALLY_SUBMIT_OK];
    this.submitThrottled += tally[TALLY_SUBMIT_THROTTLED];
    this.submitOther += tally[TALLY_SUBMIT_OTHER];
    const latency = this.latency;
    for (let i = 0; i < latency.length; i++) latency[i] += tally[TALLY_LATENCY + i];
    this.latencySumMs += tally[TALLY_LATENCY_SUM];
    this.untracked += tally[TALLY_UNTRACKED];
  }
}

/**
 * The latency (ms) under which `quantile` of the samples fall: the upper bound of their bucket (the last
 * bound for the open-ended bucket past it); -1 when there are no samples.
 */
export function latencyPercentile(counts: ArrayLike<number>, quantile: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return -1;
  const rank = Math.ceil(total * quantile);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)];
  }
  return -1;
}

function commandCounts(slots: Float64Array): CmppCommandCounts {
  const counts = {} as CmppCommandCounts;
  CMPP_COMMANDS.forEach((key, i) => (counts[key] = slots[i]));
  return counts;
}

/** Outstanding requests of live sessions: `up` the client's (awaiting the server), `down` the server's. */
export interface Outstanding {
  up: number;
  down: number;
}

/** The plain-data view of one counters object. */
export function cmppView(c: CmppCounters, outstanding: Outstanding): CmppStats {
  const connectStatus: Record<string, number> = {};
  for (let code = 0; code <= CONNECT_STATUS_CODES; code++) {
    const n = c.connectStatus[code];
    if (n > 0) connectStatus[code < CONNECT_STATUS_CODES ? String(code) : 'other'] = n;
  }
  const counts = Array.from(c.latency);
  return {
    sessions: c.sessions,
    notCmpp: c.notCmpp,
    up: commandCounts(c.up),
    down: commandCounts(c.down),
    submitResults: { ok: c.submitOk, throttled: c.submitThrottled, other: c.submitOther },
    connectStatus,
    latency: {
      boundsMs: [...LATENCY_BOUNDS_MS],
      counts,
      sumMs: c.latencySumMs,
      p50: latencyPercentile(counts, 0.5),
      p99: latencyPercentile(counts, 0.99),
    },
    outstanding: { up: outstanding.up, down: outstanding.down },
    untracked: c.untracked,
    refusedCap: c.refusedCap,
    refusedRate: c.refusedRate,
    ambiguous: c.ambiguous,
  };
}

/** How long a built account table is answered again (CmppAccounts.view). */
export const VIEW_CACHE_MS = 1000;
/** Account tables smaller than this are built fresh on every call. */
export const VIEW_CACHE_FROM = 1000;

/**
 * Counters per SP account, at most ACCOUNTS_LIMIT of them plus the overflow row; when full, a new account takes the
 * row of the oldest account no gateway let in (gatewayLetIn), and only goes to the overflow row when there is none.
 */
export class CmppAccounts {
  private readonly byAccount = new Map<string, CmppCounters>();
  private overflow: CmppCounters | null = null;
  /**
   * Every account with a row, oldest first from `head` on (one entry per row): where a full table looks for a row to
   * give up. Any client names any account in its CONNECTs (thousands of them in one connection), so without this the
   * first 10,000 names, junk included, would keep their rows until a restart and every real account after them would
   * be counted under `*other*`. An account a gateway let in (gatewayLetIn) keeps its row.
   */
  private queue: string[] = [];
  private head = 0;
  /** Rows given up for newer accounts (see `queue`). */
  dropped = 0;

  constructor(readonly limit = ACCOUNTS_LIMIT) {}

  get(account: string): CmppCounters {
    let counters = this.byAccount.get(account);
    if (counters !== undefined) return counters;
    if (this.byAccount.size >= this.limit && !this.dropOne()) return (this.overflow ??= new CmppCounters());
    counters = new CmppCounters();
    this.byAccount.set(account, counters);
    this.queue.push(account);
    return counters;
  }

  /**
   * Gives up the row of the oldest account no gateway let in, looking at most DROP_TRIES rows (those let in go to the
   * back: one that only looked let in, its session's tally not yet folded, is looked at again later); false when
   * none of them can go. O(1) per new account whatever the table holds.
   */
  private dropOne(): boolean {
    let dropped = false;
    for (let tries = 0; !dropped && tries < DROP_TRIES && this.head < this.queue.length; tries++) {
      const account = this.queue[this.head++];
      const counters = this.byAccount.get(account)!;
      if (gatewayLetIn(counters)) this.queue.push(account);
      else {
        this.byAccount.delete(account);
        this.dropped++;
        dropped = true;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }

  private cached: CmppAccountStats[] | null = null;
  private cachedAt = 0;

  /**
   * Rows sorted by account, the overflow row last; `outstanding(counters)` sums live sessions'. A table of
   * VIEW_CACHE_FROM accounts or more is built at most once per VIEW_CACHE_MS (10,000 accounts take ~100 ms on the
   * relay's thread): callers within it share one read-only array, so a viewer polling GET /stats or /metrics can't
   * keep the data plane busy. Smaller tables are cheap and always fresh.
   */
  view(outstanding: Map<CmppCounters, Outstanding>, now = Date.now()): CmppAccountStats[] {
    const big = this.byAccount.size >= VIEW_CACHE_FROM;
    if (big && this.cached !== null && now - this.cachedAt < VIEW_CACHE_MS && now >= this.cachedAt)
      return this.cached;
    this.cached = this.build(outstanding);
    this.cachedAt = now;
    return this.cached;
  }

  private build(outstanding: Map<CmppCounters, Outstanding>): CmppAccountStats[] {
    const none: Outstanding = { up: 0, down: 0 };
    const rows = [...this.byAccount.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([account, c]) => accountRow(account, c, outstanding.get(c) ?? none));
    if (this.overflow !== null)
      rows.push(accountRow(OVERFLOW_ACCOUNT, this.overflow, outstanding.get(this.overflow) ?? none));
    return rows;
  }

  get size(): number {
    return this.byAccount.size;
  }
}

/** Rows a full table looks at for one it can give up (CmppAccounts.dropOne). */
const DROP_TRIES = 16;

/**
 * A gateway let this account log in: a CONNECT_RESP status 0 seen (inspection counts statuses from the server only),
 * and none sent by the client itself (an SP never sends one: such a session is not trusted either). A SUBMIT proves
 * nothing, a client sends one after any CONNECT. A real account, whatever names clients send.
 */
export function gatewayLetIn(c: CmppCounters): boolean {
  return c.connectStatus[0] > 0 && c.up[CONNECT_RESP_SLOT] === 0;
}

/** gatewayLetIn of a row of the plain-data view (a worker's, or merged). */
export function rowGatewayLetIn(row: CmppAccountStats): boolean {
  return (row.connectStatus['0'] ?? 0) > 0 && row.up.connectResp === 0;
}

function accountRow(account: string, c: CmppCounters, outstanding: Outstanding): CmppAccountStats {
  return {
    account,
    version: c.versionByte === 0 ? '' : formatVersionByte(c.versionByte),
    lastConnectAt: c.lastConnectAt,
    ...cmppView(c, outstanding),
  };
}
