// Live stats: one EventSource for the whole console (`stats` every second plus runtime events);
// if the stream fails, poll GET /stats every second and retry the stream later, showing which mode is on.
import { api } from './api.js';
import { Store } from './store.js';
import type { RuntimeEvent, RuntimeStats } from './types.js';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

export const liveStats = new Store<RuntimeStats | null>(null);
export const liveMode = new Store<LiveMode>('connecting');
/** Recent runtime events, newest first. */
export const liveEvents = new Store<RuntimeEvent[]>([]);
/** Wall-clock time of the last stats received, to show staleness. */
export const lastUpdate = new Store<number>(0);

type StatsListener = (s: RuntimeStats) => void;
const statsListeners = new Set<StatsListener>();
export function onStats(l: StatsListener): () => void {
  statsListeners.add(l);
  return () => statsListeners.delete(l);
}

let source: EventSource | null = null;
let pollTimer: ReturnType<typeof setInterval> | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let running = false;

function receive(stats: RuntimeStats): void {
  liveStats.set(stats);
  lastUpdate.set(Date.now());
  statsListeners.forEach((l) => l(stats));
}

function receiveEvent(event: RuntimeEvent): void {
  liveEvents.set([event, ...liveEvents.get()].slice(0, 20));
}

/** The stream's events: `stats` (RuntimeStats every second) and one per runtime event type (RuntimeEvent). */
const RUNTIME_EVENT_TYPES: ReadonlyArray<RuntimeEvent['type']> = [
  'health',
  'admin-state',
  'frontend-error',
  'frontend-open',
  'sessions-closed',
  'worker-exit',
];

function parse<T>(raw: string): T | undefined {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

function openStream(): void {
  if (!running) return;
  source?.close();
  const es = new EventSource('/api/v1/stats/stream', { withCredentials: true });
  source = es;
  es.addEventListener('stats', (e) => {
    const stats = parse<RuntimeStats>((e as MessageEvent<string>).data);
    if (stats) receive(stats);
  });
  for (const type of RUNTIME_EVENT_TYPES) {
    es.addEventListener(type, (e) => {
      const event = parse<RuntimeEvent>((e as MessageEvent<string>).data);
      if (event) receiveEvent(event);
    });
  }
  es.onopen = () => {
    liveMode.set('live');
    stopPolling();
  };
  es.onerror = () => {
    // EventSource retries on its own after a dropped connection; a refused one (401, 404) ends CLOSED.
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      if (source === es) source = null;
      startPolling();
      retryTimer = setTimeout(openStream, 10_000);
    } else {
      startPolling();
    }
  };
}

async function pollOnce(): Promise<void> {
  try {
    receive(await api.get<RuntimeStats>('/stats'));
    if (liveMode.get() !== 'live') liveMode.set('polling');
  } catch {
    liveMode.set('offline');
  }
}

function startPolling(): void {
  if (pollTimer || !running) return;
  if (liveMode.get() === 'live') liveMode.set('polling');
  void pollOnce();
  pollTimer = setInterval(() => {
    if (source?.readyState === EventSource.OPEN && liveMode.get() === 'live') return stopPolling();
    void pollOnce();
  }, 1000);
}

function stopPolling(): void {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = undefined;
}

export function startLive(): void {
  if (running) return;
  running = true;
  liveMode.set('connecting');
  void pollOnce(); // paint at once, before the stream's first tick
  openStream();
}

export function stopLive(): void {
  running = false;
  source?.close();
  source = null;
  stopPolling();
  if (retryTimer) clearTimeout(retryTimer);
}

/** Fetch now (after an action) instead of waiting for the next tick. */
export function refreshNow(): void {
  void pollOnce();
}
