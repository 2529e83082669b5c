import { useState } from 'preact/hooks';
import { api, ApiError, describeError, request, seg } from '../api.js';
import { showBanner, showFailure } from '../components/banner.js';
import { confirmAction } from '../components/confirm.js';
import { bytes, ms } from '../format.js';
import { usePoll } from '../hooks.js';
import { liveStats } from '../live.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import type { SessionInfo } from '../types.js';

type Session = SessionInfo & { ageMs?: number; idleMs?: number };

/** Live connections, oldest first: the long-lived binds an SMS gateway cares about. */
export function Sessions() {
  const user = useStore(currentUser);
  const stats = useStore(liveStats);
  const [filter, setFilter] = useState(''); // "backend/server" or "backend/" or ''
  const [busyId, setBusyId] = useState<string | null>(null);
  const [limit, setLimit] = useState(100);
  const [backend, server] = filter ? filter.split('/') : ['', ''];

  const { data, error, reload } = usePoll(
    async () => {
      // The API answers at most `limit` sessions, oldest first, and how many matched in X-Total-Count.
      const q = new URLSearchParams({ limit: String(limit) });
      if (backend) q.set('backend', backend);
      if (server) q.set('server', server);
      const r = await request<Session[]>('GET', `/sessions?${q}`);
      const total = Number(r.headers.get('X-Total-Count') ?? r.data.length);
      return { list: r.data, total, at: Date.now() };
    },
    2000,
    [filter, limit],
  );

  async function kill(s: Session) {
    const ok = await confirmAction({
      title: `Close the session of ${s.clientAddress}:${s.clientPort}?`,
      body: (
        <p>
          This cuts 1 session ({s.frontend} → {s.backend}/{s.server ?? '…'}, open for {ms(age(s, Date.now()))}
          ). The client will have to reconnect.
        </p>
      ),
      action: 'Cut 1 session',
      danger: true,
    });
    if (!ok) return;
    setBusyId(s.id);
    try {
      await api.del(`/sessions/${seg(s.id)}`);
      showBanner('done', `session of ${s.clientAddress}:${s.clientPort} closed`);
    } catch (e) {
      // Gone already (it ended by itself meanwhile): nothing left to do.
      if (e instanceof ApiError && e.status === 404) showBanner('same', describeError(e));
      else showFailure(e);
    } finally {
      setBusyId(null);
      reload();
    }
  }

  const servers = stats?.backends.flatMap((b) => b.servers.map((s) => `${b.name}/${s.name}`)) ?? [];
  const list = data?.list ?? []; // oldest first, as the API answers
  const now = data?.at ?? Date.now();
  const mayKill = can(user, 'operator');

  return (
    <div class="sessions">
      <div class="toolbar">
        <label>
          Server{' '}
          <select value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}>
            <option value="">all servers</option>
            {stats?.backends.map((b) => (
              <option key={b.name} value={`${b.name}/`}>
                backend {b.name} (all)
              </option>
            ))}
            {servers.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span>
          <b>{list.length}</b> session{list.length === 1 ? '' : 's'}, oldest first
        </span>
        {error !== undefined && <span class="field-error">{describeError(error)}</span>}
      </div>
      {list.length === 0 ? (
        <p class="empty">{data ? 'No live sessions.' : 'Loading…'}</p>
      ) : (
        <div class="table-wrap panel">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Frontend</th>
                <th scope="col">Server</th>
                <th scope="col" class="num">
                  Age
                </th>
                <th scope="col" class="num">
                  Idle
                </th>
                <th scope="col" class="num" title="client → server">
                  In
                </th>
                <th scope="col" class="num" title="server → client">
                  Out
                </th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-session={s.id}>
                  <th scope="row" class="mono">
                    {s.clientAddress}:{s.clientPort} <CopyButton text={s.clientAddress} />
                  </th>
                  <td data-label="Frontend">{s.frontend}</td>
                  <td data-label="Server">
                    {s.backend}/{s.server ?? <span class="muted">connecting</span>}
                  </td>
                  <td data-label="Age" class="num">
                    {ms(age(s, now))}
                  </td>
                  <td data-label="Idle" class="num">
                    {ms(s.idleMs ?? now - s.lastActiveAt)}
                  </td>
                  <td data-label="In" class="num">
                    {bytes(s.bytesIn)}
                  </td>
                  <td data-label="Out" class="num">
                    {bytes(s.bytesOut)}
                  </td>
                  <td data-label="State">
                    {s.state}
                    {s.account !== undefined && (
                      <span
                        class="cmpp-session"
                        title="CMPP: SP account, version, requests awaiting an answer (SP / gateway)"
                      >
                        {' '}
                        · {s.account}
                        {s.cmppVersion ? ` v${s.cmppVersion}` : ''}
                        {s.outstanding ? ` · ${s.outstanding.up}/${s.outstanding.down} outstanding` : ''}
                      </span>
                    )}
                  </td>
                  <td data-label="Actions">
                    <button
                      type="button"
                      class="danger-outline"
                      disabled={!mayKill || busyId === s.id}
                      title={mayKill ? undefined : 'needs the operator role'}
                      onClick={() => kill(s)}
                    >
                      Kill
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {(data?.total ?? 0) > list.length && (
            <button type="button" onClick={() => setLimit((l) => Math.min(l + 200, 10_000))}>
              Show more ({(data?.total ?? 0) - list.length} hidden)
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function age(s: Session, now: number): number {
  return s.ageMs ?? now - s.startedAt;
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Plain-HTTP consoles have no clipboard API: fall back to a hidden textarea.
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }
  return (
    <button type="button" class="link-button small" aria-label={`Copy ${text}`} onClick={copy}>
      {copied ? 'copied' : 'copy'}
    </button>
  );
}
