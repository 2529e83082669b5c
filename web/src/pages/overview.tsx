import { useMemo, useState } from 'preact/hooks';
import { useStore } from '../store.js';
import { liveEvents, liveStats } from '../live.js';
import { bytes, clock, count, dateTime, ms, seconds } from '../format.js';
import { healthLook } from '../components/badges.js';
import { FrontendRetry } from './frontend-retry.js';
import { ServerRow } from './server-row.js';
import { hasSms, SmsPanel } from './sms.js';
// The same text the event log stores, so the overview and the Events page say the same thing.
import { describeEvent } from '../../../src/events/describe-event.js';
import type { BackendStats, FrontendStats, RuntimeStats, ServerStats } from '../types.js';

// HAProxy's stats page, one table per frontend→backend, with health and admin state as separate badges.
export function Overview() {
  const stats = useStore(liveStats);
  const [scope, setScope] = useState('');
  const [problemsOnly, setProblemsOnly] = useState(false);

  if (!stats) return <p class="muted">Loading statistics…</p>;
  const groups = groupByBackend(stats);
  const q = scope.trim().toLowerCase();
  const shown = filterGroups(groups, q, problemsOnly);

  return (
    <div class="overview">
      <Rollup stats={stats} onProblems={() => setProblemsOnly(true)} />
      <Workers stats={stats} />
      <div class="toolbar">
        <label>
          Filter{' '}
          <input
            type="search"
            value={scope}
            placeholder="name, address or port"
            onInput={(e) => setScope((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={problemsOnly}
            onChange={(e) => setProblemsOnly((e.target as HTMLInputElement).checked)}
          />{' '}
          only servers not UP+READY
        </label>
        <a href="/api/v1/stats?format=csv" target="_blank" rel="noopener">
          CSV
        </a>{' '}
        <a href="/api/v1/stats" target="_blank" rel="noopener">
          JSON
        </a>
      </div>
      <Events />
      {hasSms(stats) && <SmsPanel stats={stats} />}
      {groups.length === 0 && (
        <p class="empty">
          No frontends or backends yet. <a href="#/config">Add one in Config</a>.
        </p>
      )}
      {groups.length > 0 && shown.length === 0 && (
        <p class="empty" data-testid="no-match">
          No match for “{scope.trim()}”{problemsOnly ? ' among servers not UP+READY' : ''}.
        </p>
      )}
      {shown.map(({ backend, frontends, servers }) => (
        <ProxyTable
          key={backend.name}
          backend={backend}
          frontends={frontends}
          servers={servers}
          at={stats.at}
        />
      ))}
    </div>
  );
}

/** What the filter looks at: names, and addresses and ports as `address:port`, `:port` and `address`. */
function endpointTexts(address: string, port: number, resolved?: string): string[] {
  const texts = [`${address}:${port}`, `:${port}`];
  if (resolved) texts.push(`${resolved}:${port}`);
  return texts;
}

function matches(q: string, ...texts: string[]): boolean {
  return texts.some((t) => t.toLowerCase().includes(q));
}

/** The tables to show: a backend whose frontend or name matches shows all its servers, else the matching ones. */
function filterGroups(
  groups: Array<{ backend: BackendStats; frontends: FrontendStats[] }>,
  q: string,
  problemsOnly: boolean,
): Array<{ backend: BackendStats; frontends: FrontendStats[]; servers: BackendStats['servers'] }> {
  return groups.flatMap(({ backend, frontends }) => {
    const groupMatch =
      !q ||
      matches(q, backend.name) ||
      frontends.some((f) =>
        matches(q, f.name, ...(f.binds ?? [f.bind]).flatMap((b) => endpointTexts(b.address, b.port))),
      );
    const servers = backend.servers.filter(
      (s) =>
        (!problemsOnly || s.health !== 'UP' || s.adminState !== 'ready' || /\d\/\d/.test(s.status)) &&
        (groupMatch || matches(q, s.name, ...endpointTexts(s.address, s.port, s.resolved))),
    );
    if (!groupMatch && servers.length === 0) return [];
    return [{ backend, frontends, servers }];
  });
}

function groupByBackend(stats: RuntimeStats): Array<{ backend: BackendStats; frontends: FrontendStats[] }> {
  return stats.backends.map((backend) => ({
    backend,
    frontends: stats.frontends.filter((f) => f.backend === backend.name),
  }));
}

function Rollup({ stats, onProblems }: { stats: RuntimeStats; onProblems: () => void }) {
  const servers = stats.backends.flatMap((b) => b.servers);
  const down = servers.filter((s) => s.health === 'DOWN').length;
  const drains = servers.filter((s) => s.adminState === 'drain');
  const drain = drains.length;
  const drainsLeft = drains.reduce((n, s) => n + (s.drain?.sessionsLeft ?? s.scur), 0);
  const maint = servers.filter((s) => s.adminState === 'maint').length;
  const failed = stats.frontends.filter((f) => f.status === 'FAILED');
  const sessions = stats.frontends.reduce((n, f) => n + f.scur, 0);
  return (
    <div class="rollup" data-testid="rollup">
      <span>
        <b>{stats.frontends.filter((f) => f.status === 'OPEN').length}</b>/{stats.frontends.length} frontends
        open
      </span>
      {failed.length > 0 && (
        <span
          class="chip chip-bad"
          title={failed.map((f) => `${f.name}: ${f.error?.message ?? ''}`).join('\n')}
        >
          {failed.length} frontend{failed.length > 1 ? 's' : ''} failed to bind
        </span>
      )}
      <span>
        <b>{servers.length - down}</b>/{servers.length} servers UP
      </span>
      {down > 0 && (
        <button type="button" class="chip chip-bad" onClick={onProblems}>
          {down} DOWN
        </button>
      )}
      {drain > 0 && (
        <span
          class="chip a-drain"
          data-testid="drain-chip"
          title={drains.map((s) => `${s.backend}/${s.name}: ${drainSummary(s)}`).join('\n')}
        >
          {drain} DRAIN
          {drainsLeft > 0 && ` · ${count(drainsLeft)} session${drainsLeft === 1 ? '' : 's'} left`}
        </span>
      )}
      {maint > 0 && <span class="chip a-maint">{maint} MAINT</span>}
      <span>
        <b>{count(sessions)}</b> sessions
      </span>
      <span class="muted">uptime {seconds(stats.uptime)}</span>
    </div>
  );
}

/** One line per draining server for the DRAIN chip's tooltip: sessions left and, for an operation, time left. */
function drainSummary(s: ServerStats): string {
  const d = s.drain;
  const left = `${count(d?.sessionsLeft ?? s.scur)} left`;
  if (!d || d.then === null) return left;
  const time = d.timeLeftMs === null ? '' : `, ${ms(d.timeLeftMs)} to deadline`;
  return `${left}${time}, then ${d.then.toUpperCase()}`;
}

/** Worker processes (TETHER_WORKERS > 0, docs/workers.md): one row each; nothing when the data plane runs in-process. */
function Workers({ stats }: { stats: RuntimeStats }) {
  const workers = stats.workers ?? [];
  const accept = stats.acceptErrors;
  if (workers.length === 0 && !accept?.errors) return null;
  return (
    <section class="workers" aria-label="Worker processes">
      {workers.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Worker</th>
                <th>PID</th>
                <th>State</th>
                <th>Sessions</th>
                <th>RSS</th>
                <th>Restarts</th>
                <th>Lost sessions</th>
                <th>Accept errors</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.id} data-worker={w.id}>
                  <td>{w.id}</td>
                  <td>{w.pid}</td>
                  <td>{w.state}</td>
                  <td>{count(w.sessions)}</td>
                  <td>{bytes(w.rssBytes)}</td>
                  <td>{count(w.restarts)}</td>
                  <td>{count(w.lostSessions)}</td>
                  <td>{count(w.acceptErrors)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {accept && accept.errors > 0 && (
        <p class="ev-bad">
          Out of file descriptors: {count(accept.errors)} accept errors ({accept.lastCode}), accepting paused{' '}
          {count(accept.pauses)} times
        </p>
      )}
    </section>
  );
}

function Events() {
  const events = useStore(liveEvents);
  const recent = useMemo(() => events.slice(0, 3), [events]);
  if (recent.length === 0) return null;
  return (
    <ul class="events" aria-label="Recent events">
      {recent.map((e, i) => (
        <li key={`${e.at}-${i}`} class={e.type === 'health' && e.to === 'DOWN' ? 'ev-bad' : ''}>
          {/* Stored events may be from before a restart, days ago: those say their date. */}
          <time>{Date.now() - e.at > 12 * 3600_000 ? dateTime(e.at) : clock(e.at)}</time> {describeEvent(e)}
        </li>
      ))}
      <li class="muted small">
        <a href="#/events">All events</a>
      </li>
    </ul>
  );
}

function ProxyTable({
  backend,
  frontends,
  servers,
  at,
}: {
  backend: BackendStats;
  frontends: FrontendStats[];
  servers: BackendStats['servers'];
  at: number;
}) {
  const title = frontends.length
    ? frontends
        .map((f) => `${f.name} ${(f.binds ?? [f.bind]).map((b) => `${b.address}:${b.port}`).join(' ')}`)
        .join(', ')
    : '(no frontend)';
  const upCount = backend.servers.filter((s) => healthLook(s).cls === 'h-up').length;
  return (
    <section class="proxy" aria-label={`${title} to ${backend.name}`} data-backend={backend.name}>
      <h2>
        <span>{title}</span> <span class="arrow">→</span> <span>{backend.name}</span>{' '}
        <span class="muted small">
          {backend.balance} · {upCount}/{backend.servers.length} up · act {backend.act} bck {backend.bck}
        </span>
      </h2>
      <div class="table-wrap">
        <table class="stats">
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Health</th>
              <th scope="col">Admin</th>
              <th scope="col" class="num">
                Weight
              </th>
              <th scope="col" class="num" title="current sessions">
                Cur
              </th>
              <th scope="col" class="num" title="max sessions">
                Max
              </th>
              <th scope="col" class="num" title="total sessions">
                Total
              </th>
              <th scope="col" class="num" title="bytes in (from clients)">
                In
              </th>
              <th scope="col" class="num" title="bytes out (to clients)">
                Out
              </th>
              <th scope="col" class="num" title="connection errors">
                Econ
              </th>
              <th scope="col">Last check</th>
              <th scope="col" class="num" title="time since last UP/DOWN change">
                Last chg
              </th>
              <th scope="col" class="num" title="times it went DOWN (HAProxy chkdown) · total time DOWN">
                Down
              </th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {frontends.map((f) => (
              <tr key={`fe-${f.name}`} class="fe-row">
                <th scope="row" data-label="Frontend">
                  Frontend {f.name}
                </th>
                <td data-label="Status" colSpan={2}>
                  <span class={`badge fe-${f.status.toLowerCase()}`} title={f.error?.message}>
                    {f.status}
                  </span>
                  {f.error && <span class="error-text"> {f.error.code}</span>}
                </td>
                <td class="num" data-label="Weight"></td>
                <td class="num" data-label="Cur">
                  {count(f.scur)}
                </td>
                <td class="num" data-label="Max">
                  {count(f.smax)}
                </td>
                <td class="num" data-label="Total">
                  {count(f.stot)}
                </td>
                <td class="num" data-label="In">
                  {bytes(f.bin)}
                </td>
                <td class="num" data-label="Out">
                  {bytes(f.bout)}
                </td>
                <td class="num" data-label="Denied" title="denied by allow-list / no usable server">
                  {f.denied > 0 || f.noServer > 0 ? `${count(f.denied)} / ${count(f.noServer)}` : '0'}
                </td>
                <td colSpan={3} class="muted" data-label="">
                  {f.denied > 0 || f.noServer > 0 ? 'denied / no server' : ''}
                </td>
                <td data-label="Actions">
                  {f.status === 'FAILED' && <FrontendRetry frontend={f} at={at} />}
                </td>
              </tr>
            ))}
            {servers.map((s) => (
              <ServerRow key={s.name} server={s} at={at} />
            ))}
            <tr class="be-row">
              <th scope="row" data-label="Backend">
                Backend {backend.name}
              </th>
              <td data-label="Status" colSpan={2}>
                <span class={`badge ${backend.status === 'UP' ? 'h-up' : 'h-down'}`}>{backend.status}</span>
              </td>
              <td class="num" data-label="Weight"></td>
              <td class="num" data-label="Cur">
                {count(backend.scur)}
              </td>
              <td class="num" data-label="Max">
                {count(backend.smax)}
              </td>
              <td class="num" data-label="Total">
                {count(backend.stot)}
              </td>
              <td class="num" data-label="In">
                {bytes(backend.bin)}
              </td>
              <td class="num" data-label="Out">
                {bytes(backend.bout)}
              </td>
              <td class="num" data-label="Econ">
                {count(backend.econ)}
              </td>
              <td data-label=""></td>
              <td class="num" data-label="Last chg">
                {seconds(backend.lastchg)}
              </td>
              <td
                class="num"
                data-label="Down"
                data-testid="backend-down"
                title="times the backend itself went DOWN, no server left in service (HAProxy's backend chkdown) · time DOWN"
              >
                {backend.chkdown}× · {seconds(backend.downtime)}
              </td>
              <td data-label=""></td>
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}
