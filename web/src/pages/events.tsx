import { useEffect, useState } from 'preact/hooks';
import { describeError, request } from '../api.js';
import { dateTime } from '../format.js';
import { usePoll } from '../hooks.js';
import { parseHash } from '../route.js';

/** One entry of the stored event log (GET /events). */
interface StoredEvent {
  id: number;
  at: number;
  type: string;
  frontend?: string;
  backend?: string;
  server?: string;
  text: string;
  detail: Record<string, unknown>;
}

const TYPES: Array<{ value: string; label: string }> = [
  { value: '', label: 'all' },
  { value: 'health', label: 'health (UP/DOWN)' },
  { value: 'admin-state', label: 'admin state (drain, maint)' },
  { value: 'drain', label: 'drain operation (deadline, end)' },
  { value: 'sessions-closed', label: 'sessions cut' },
  { value: 'frontend-error', label: 'bind failed' },
  { value: 'frontend-open', label: 'bind open' },
  { value: 'worker-exit', label: 'worker died' },
  { value: 'appliance-start', label: 'appliance start' },
];

/** Shown at most; the API's X-Total-Count tells how many matched. */
const LIMIT = 200;

/** The stored event log: health changes with their check status, admin states, drains, binds and restarts. */
export function Events() {
  // Filters may come in the link: #/events?type=health&backend=gw&server=s1.
  const [initial] = useState(() => parseHash(location.hash).params);
  const [type, setType] = useState(initial.get('type') ?? '');
  const [frontend, setFrontend] = useState(initial.get('frontend') ?? '');
  const [backend, setBackend] = useState(initial.get('backend') ?? '');
  const [server, setServer] = useState(initial.get('server') ?? '');

  // The filters in the link too, so the page can be reloaded or the link passed on as it is.
  useEffect(() => {
    const q = new URLSearchParams();
    if (type) q.set('type', type);
    if (frontend.trim()) q.set('frontend', frontend.trim());
    if (backend.trim()) q.set('backend', backend.trim());
    if (server.trim()) q.set('server', server.trim());
    const hash = `#/events${q.size ? `?${q}` : ''}`;
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  }, [type, frontend, backend, server]);

  const { data, error } = usePoll(
    async () => {
      const q = new URLSearchParams({ limit: String(LIMIT) });
      if (type) q.set('type', type);
      if (frontend.trim()) q.set('frontend', frontend.trim());
      if (backend.trim()) q.set('backend', backend.trim());
      if (server.trim()) q.set('server', server.trim());
      const res = await request<StoredEvent[]>('GET', `/events?${q}`);
      return { items: res.data, total: Number(res.headers.get('X-Total-Count') ?? res.data.length) };
    },
    5000,
    [type, frontend, backend, server],
  );

  const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <div class="events-page">
      <form class="toolbar" onSubmit={(e) => e.preventDefault()} aria-label="Event filters">
        <label>
          Type{' '}
          <select name="type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Frontend{' '}
          <input name="frontend" type="search" maxLength={64} value={frontend} onInput={text(setFrontend)} />
        </label>
        <label>
          Backend{' '}
          <input name="backend" type="search" maxLength={64} value={backend} onInput={text(setBackend)} />
        </label>
        <label>
          Server <input name="server" type="search" maxLength={64} value={server} onInput={text(setServer)} />
        </label>
        {data && (
          <span class="muted" data-testid="event-count">
            {data.items.length < data.total
              ? `newest ${data.items.length} of ${data.total}`
              : `${data.total} events`}
          </span>
        )}
        {error !== undefined && <span class="field-error">{describeError(error)}</span>}
      </form>
      {!data || data.items.length === 0 ? (
        <p class="empty">{data ? 'No events match.' : 'Loading…'}</p>
      ) : (
        <div class="table-wrap panel">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((e) => (
                <tr key={e.id} data-event={e.id} class={isBad(e) ? 'ev-bad' : undefined}>
                  <th scope="row">{dateTime(e.at)}</th>
                  <td data-label="Type">
                    <code>{e.type}</code>
                  </td>
                  <td data-label="Event">{e.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function isBad(e: StoredEvent): boolean {
  return (e.type === 'health' && e.detail.to === 'DOWN') || e.type === 'frontend-error';
}
