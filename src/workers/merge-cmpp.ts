// CMPP inspection figures of several workers as one (docs/cmpp-inspection.md): every count sums, the
// latency percentiles are recomputed from the summed histogram, accounts stay bounded by ACCOUNTS_LIMIT.
import { ACCOUNTS_LIMIT, latencyPercentile, OVERFLOW_ACCOUNT } from '../runtime/cmpp-stats.js';
import type { CmppAccountStats, CmppCommandCounts, CmppStats } from '../runtime/types.js';

function addCommands(into: CmppCommandCounts, from: CmppCommandCounts): void {
  for (const key of Object.keys(into) as Array<keyof CmppCommandCounts>) into[key] += from[key];
}

function addInto(into: CmppStats, from: CmppStats): void {
  into.sessions += from.sessions;
  into.notCmpp += from.notCmpp;
  addCommands(into.up, from.up);
  addCommands(into.down, from.down);
  into.submitResults.ok += from.submitResults.ok;
  into.submitResults.throttled += from.submitResults.throttled;
  into.submitResults.other += from.submitResults.other;
  for (const [code, n] of Object.entries(from.connectStatus)) {
    into.connectStatus[code] = (into.connectStatus[code] ?? 0) + n;
  }
  const counts = into.latency.counts;
  for (let i = 0; i < counts.length && i < from.latency.counts.length; i++)
    counts[i] += from.latency.counts[i];
  into.latency.sumMs += from.latency.sumMs;
  into.outstanding.up += from.outstanding.up;
  into.outstanding.down += from.outstanding.down;
  into.untracked += from.untracked;
}

function finish<T extends CmppStats>(merged: T): T {
  merged.latency.p50 = latencyPercentile(merged.latency.counts, 0.5);
  merged.latency.p99 = latencyPercentile(merged.latency.counts, 0.99);
  return merged;
}

/** One frontend's or server's figures over all workers; undefined when no worker inspected it. */
export function mergeCmpp(list: Array<CmppStats | undefined>): CmppStats | undefined {
  let merged: CmppStats | undefined;
  for (const s of list) {
    if (s === undefined) continue;
    if (merged === undefined) merged = structuredClone(s);
    else addInto(merged, s);
  }
  return merged === undefined ? undefined : finish(merged);
}

/** Accounts over all workers, sorted by account, `*other*` last: at most ACCOUNTS_LIMIT rows plus it. */
export function mergeCmppAccounts(
  perWorker: Array<CmppAccountStats[] | undefined>,
): CmppAccountStats[] | undefined {
  const byAccount = new Map<string, CmppAccountStats>();
  let overflow: CmppAccountStats | undefined;
  let any = false;
  for (const list of perWorker) {
    if (list === undefined) continue;
    any = true;
    for (const a of list) {
      const seen = a.account === OVERFLOW_ACCOUNT ? overflow : byAccount.get(a.account);
      if (seen !== undefined) {
        addInto(seen, a);
      } else if (a.account !== OVERFLOW_ACCOUNT && byAccount.size < ACCOUNTS_LIMIT) {
        byAccount.set(a.account, structuredClone(a));
      } else if (overflow === undefined) {
        overflow = { ...structuredClone(a), account: OVERFLOW_ACCOUNT, version: '' };
      } else {
        addInto(overflow, a);
      }
    }
  }
  if (!any) return undefined;
  const rows = [...byAccount.values()].sort((x, y) =>
    x.account < y.account ? -1 : x.account > y.account ? 1 : 0,
  );
  if (overflow !== undefined) rows.push(overflow);
  return rows.map(finish);
}
