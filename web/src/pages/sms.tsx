import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { count } from '../format.js';
import type { CmppAccountStats, CmppStats, RuntimeStats } from '../types.js';

// CMPP inspection on the overview (docs/cmpp-inspection.md): one row per gateway (server) that carried inspected
// traffic, and the per-account table. SUBMIT/s is the difference between two stats events; the account table
// (up to 10,001 rows, ~8 MB) is not in the live stream: its ACCOUNTS_SHOWN busiest rows are read from
// GET /stats?accounts=N every ACCOUNTS_REFRESH_MS.
const ACCOUNTS_REFRESH_MS = 5000;
/** Rows shown in the account table, busiest first (GET /stats has them all). */
const ACCOUNTS_SHOWN = 50;

interface Gateway {
  key: string;
  backend: string;
  server: string;
  cmpp: CmppStats;
}

function gateways(stats: RuntimeStats): Gateway[] {
  return stats.backends.flatMap((b) =>
    b.servers.flatMap((s) =>
      s.cmpp ? [{ key: `${b.name}/${s.name}`, backend: b.name, server: s.name, cmpp: s.cmpp }] : [],
    ),
  );
}

export function hasSms(stats: RuntimeStats): boolean {
  return stats.frontends.some((f) => f.cmpp) || gateways(stats).length > 0;
}

/** SUBMITs per second of each gateway, from the previous stats event to this one. */
function useSubmitRates(stats: RuntimeStats, list: Gateway[]): Map<string, number> {
  const previous = useRef<{ at: number; submits: Map<string, number> } | null>(null);
  const rates = useRef(new Map<string, number>());
  const last = previous.current;
  if (last === null || last.at !== stats.at) {
    const submits = new Map(list.map((g) => [g.key, g.cmpp.up.submit]));
    const next = new Map<string, number>();
    if (last !== null && stats.at > last.at) {
      const seconds = (stats.at - last.at) / 1000;
      for (const [key, n] of submits) {
        const before = last.submits.get(key);
        if (before !== undefined && n >= before) next.set(key, (n - before) / seconds);
      }
    }
    previous.current = { at: stats.at, submits };
    rates.current = next;
  }
  return rates.current;
}

function latency(c: CmppStats): string {
  const f = (v: number) => (v < 0 ? '—' : v >= 1 ? `≤${v} ms` : `≤${v * 1000} µs`);
  return `${f(c.latency.p50)} / ${f(c.latency.p99)}`;
}

/** CONNECT_RESP statuses other than 0: "3×2, 5×1". */
function refusedLogins(c: CmppStats): string {
  const refused = Object.entries(c.connectStatus).filter(([code]) => code !== '0');
  return refused.length === 0 ? '—' : refused.map(([code, n]) => `${code}×${count(n)}`).join(', ');
}

export function SmsPanel({ stats }: { stats: RuntimeStats }) {
  const list = gateways(stats);
  const rates = useSubmitRates(stats, list);
  return (
    <section class="sms" aria-label="SMS (CMPP)">
      <h2>SMS (CMPP inspection)</h2>
      <table class="stats sms-gateways">
        <thead>
          <tr>
            <th scope="col">Gateway</th>
            <th scope="col" class="num">
              SUBMIT/s
            </th>
            <th scope="col" class="num">
              SUBMITs
            </th>
            <th scope="col" class="num" title="SUBMIT_RESP result 0">
              ok
            </th>
            <th scope="col" class="num" title="SUBMIT_RESP result 8: flow control">
              throttled
            </th>
            <th scope="col" class="num" title="any other SUBMIT_RESP result">
              other
            </th>
            <th scope="col" class="num" title="SUBMIT → SUBMIT_RESP, upper bound of the histogram bucket">
              latency p50 / p99
            </th>
            <th
              scope="col"
              title="CONNECT_RESP status × count (2 IP/account not allowed, 3 authentication, 5 too many connections)"
            >
              logins refused
            </th>
            <th scope="col" class="num" title="requests awaiting an answer: the SPs' / the gateway's">
              outstanding
            </th>
            <th
              scope="col"
              class="num"
              title="messages in flight, unanswered, when their session ended: possibly sent twice or lost"
            >
              ambiguous
            </th>
          </tr>
        </thead>
        <tbody>
          {list.length === 0 && (
            <tr>
              <td colSpan={10} class="muted">
                No inspected traffic yet.
              </td>
            </tr>
          )}
          {list.map((g) => (
            <tr key={g.key} data-gateway={g.key}>
              <th scope="row">
                {g.backend}/{g.server}
              </th>
              <td data-label="SUBMIT/s" class="num">
                {rates.has(g.key) ? count(Math.round(rates.get(g.key)!)) : '—'}
              </td>
              <td data-label="SUBMITs" class="num">
                {count(g.cmpp.up.submit)}
              </td>
              <td data-label="ok" class="num">
                {count(g.cmpp.submitResults.ok)}
              </td>
              <td data-label="throttled" class="num">
                {count(g.cmpp.submitResults.throttled)}
              </td>
              <td data-label="other" class="num">
                {count(g.cmpp.submitResults.other)}
              </td>
              <td data-label="latency" class="num">
                {latency(g.cmpp)}
              </td>
              <td data-label="logins refused">{refusedLogins(g.cmpp)}</td>
              <td data-label="outstanding" class="num">
                {g.cmpp.outstanding.up} / {g.cmpp.outstanding.down}
              </td>
              <td data-label="ambiguous" class="num">
                {count(g.cmpp.ambiguous ?? 0)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Accounts />
    </section>
  );
}

function Accounts() {
  const [accounts, setAccounts] = useState<CmppAccountStats[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState('');
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api
        .get<RuntimeStats & { cmppAccountsTotal?: number }>(`/stats?accounts=${ACCOUNTS_SHOWN}`)
        .then((s) => {
          if (stopped) return;
          setAccounts(s.cmppAccounts ?? []);
          setTotal(s.cmppAccountsTotal ?? s.cmppAccounts?.length ?? 0);
          setError('');
        })
        .catch((err: unknown) => !stopped && setError(String(err)));
    void load();
    const timer = setInterval(load, ACCOUNTS_REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  if (error) return <p class="muted">Accounts unavailable: {error}</p>;
  if (accounts === null) return <p class="muted">Loading accounts…</p>;
  const shown = [...accounts].sort((a, b) => b.up.submit - a.up.submit).slice(0, ACCOUNTS_SHOWN);
  return (
    <table class="stats sms-accounts">
      <caption>
        SP accounts ({count(total)}
        {total > ACCOUNTS_SHOWN ? `, the ${ACCOUNTS_SHOWN} busiest shown` : ''})
      </caption>
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col">Version</th>
          <th scope="col" class="num">
            logins
          </th>
          <th scope="col">logins refused</th>
          <th
            scope="col"
            class="num"
            title="CONNECTs Tether answered itself with status 5: the account at its cap (backend.cmpp) / over a login rate"
          >
            Tether refused: cap / rate
          </th>
          <th scope="col" class="num">
            SUBMITs
          </th>
          <th scope="col" class="num">
            ok
          </th>
          <th scope="col" class="num">
            throttled
          </th>
          <th scope="col" class="num">
            other
          </th>
          <th scope="col" class="num">
            latency p50 / p99
          </th>
          <th scope="col" class="num">
            outstanding
          </th>
          <th
            scope="col"
            class="num"
            title="messages in flight, unanswered, when their session ended: possibly sent twice or lost"
          >
            ambiguous
          </th>
        </tr>
      </thead>
      <tbody>
        {shown.map((a) => (
          <tr key={a.account} data-account={a.account}>
            <th scope="row" class="mono">
              {a.account}
            </th>
            <td data-label="Version">{a.version || '—'}</td>
            <td data-label="logins" class="num">
              {count(a.up.connect)}
            </td>
            <td data-label="logins refused">{refusedLogins(a)}</td>
            <td data-label="Tether refused" class="num">
              {count(a.refusedCap ?? 0)} / {count(a.refusedRate ?? 0)}
            </td>
            <td data-label="SUBMITs" class="num">
              {count(a.up.submit)}
            </td>
            <td data-label="ok" class="num">
              {count(a.submitResults.ok)}
            </td>
            <td data-label="throttled" class="num">
              {count(a.submitResults.throttled)}
            </td>
            <td data-label="other" class="num">
              {count(a.submitResults.other)}
            </td>
            <td data-label="latency" class="num">
              {latency(a)}
            </td>
            <td data-label="outstanding" class="num">
              {a.outstanding.up} / {a.outstanding.down}
            </td>
            <td data-label="ambiguous" class="num">
              {count(a.ambiguous ?? 0)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
