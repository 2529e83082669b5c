// CMPP inspection counters of several workers as one (types.ts: "every number sums across processes;
// p50/p99 are recomputed from the summed latency.counts").
import {
  ACCOUNTS_LIMIT,
  OVERFLOW_ACCOUNT,
  latencyPercentile,
  rowGatewayLetIn,
} from '../runtime/cmpp-stats.js';
import type { CmppAccountStats, CmppCommandCounts, CmppStats } from '../runtime/types.js';

function sumCommands(a: CmppCommandCounts, b: CmppCommandCounts): CmppCommandCounts {
  const out = { ...a };
  for (const key of Object.keys(b) as Array<keyof CmppCommandCounts>) out[key] = (out[key] ?? 0) + b[key];
  return out;
}

function sumRecord(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n;
  return out;
}

/** a + b, field by field; the percentiles from the summed histogram. */
export function sumCmpp(a: CmppStats, b: CmppStats): CmppStats {
  const counts = a.latency.counts.map((n, i) => n + (b.latency.counts[i] ?? 0));
  return {
    sessions: a.sessions + b.sessions,
    notCmpp: a.notCmpp + b.notCmpp,
    up: sumCommands(a.up, b.up),
    down: sumCommands(a.down, b.down),
    submitResults: {
      ok: a.submitResults.ok + b.submitResults.ok,
      throttled: a.submitResults.throttled + b.submitResults.throttled,
      other: a.submitResults.other + b.submitResults.other,
    },
    connectStatus: sumRecord(a.connectStatus, b.connectStatus),
    latency: {
      boundsMs: a.latency.boundsMs,
      counts,
      sumMs: a.latency.sumMs + b.latency.sumMs,
      p50: latencyPercentile(counts, 0.5),
      p99: latencyPercentile(counts, 0.99),
    },
    outstanding: { up: a.outstanding.up + b.outstanding.up, down: a.outstanding.down + b.outstanding.down },
    untracked: a.untracked + b.untracked,
    refusedCap: (a.refusedCap ?? 0) + (b.refusedCap ?? 0),
    refusedRate: (a.refusedRate ?? 0) + (b.refusedRate ?? 0),
    ambiguous: a.ambiguous + b.ambiguous,
  };
}

/** The sum of whichever are present; undefined when none is. */
export function mergeCmpp(list: Array<CmppStats | undefined>): CmppStats | undefined {
  let out: CmppStats | undefined;
  for (const c of list) if (c !== undefined) out = out === undefined ? c : sumCmpp(out, c);
  return out;
}

/**
 * Per-account rows of all workers: summed by account, sorted, at most ACCOUNTS_LIMIT named rows (accounts a gateway
 * let in first; the rest, and every worker's own overflow row, summed into the overflow row, last).
 */
export function mergeCmppAccounts(
  lists: Array<CmppAccountStats[] | undefined>,
): CmppAccountStats[] | undefined {
  if (lists.every((l) => l === undefined)) return undefined;
  const byAccount = new Map<string, CmppAccountStats>();
  let overflow: CmppAccountStats | undefined;
  const addOverflow = (row: CmppAccountStats) => {
    overflow =
      overflow === undefined
        ? { ...row, account: OVERFLOW_ACCOUNT }
        : { ...sumCmpp(overflow, row), ...latest(overflow, row), account: OVERFLOW_ACCOUNT };
  };
  // Accounts a gateway let in first, as each worker's own table keeps them (cmpp-stats.ts): one worker's 10,000 names
  // no gateway let in must not push another worker's real accounts into the overflow row.
  for (const pass of [true, false]) {
    for (const list of lists) {
      for (const row of list ?? []) {
        if (rowGatewayLetIn(row) !== pass) continue; // each row in one of the two passes
        if (row.account === OVERFLOW_ACCOUNT) {
          addOverflow(row);
          continue;
        }
        const seen = byAccount.get(row.account);
        if (seen !== undefined)
          byAccount.set(row.account, { ...sumCmpp(seen, row), ...latest(seen, row), account: row.account });
        else if (byAccount.size < ACCOUNTS_LIMIT) byAccount.set(row.account, row);
        else addOverflow(row);
      }
    }
  }
  const rows = [...byAccount.values()].sort((a, b) =>
    a.account < b.account ? -1 : a.account > b.account ? 1 : 0,
  );
  if (overflow !== undefined) rows.push(overflow);
  return rows;
}

/** The version of whichever row saw the later CONNECT (worker processes see an account's CONNECTs in turn). */
function latest(
  a: CmppAccountStats,
  b: CmppAccountStats,
): Pick<CmppAccountStats, 'version' | 'lastConnectAt'> {
  const last = (b.lastConnectAt ?? 0) >= (a.lastConnectAt ?? 0) ? b : a;
  return { version: last.version, lastConnectAt: last.lastConnectAt };
}
