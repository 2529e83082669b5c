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

function handle(raw: string): void {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return;
  }
  if (!data || typeof data !== 'object') return;
  const d = data as Record<string, unknown>;
  if (Array.isArray(d.frontends) && Array.isArray(d.backends)) receive(d as unknown as RuntimeStats);
  else if (typeof d.type === 'string') receiveEvent(d as unknown as RuntimeEvent);
  else if (d.stats && typeof d.stats === 'object') handle(JSON.stringify(d.stats));
  else if (d.event && typeof d.event === 'object') receiveEvent(d.event as RuntimeEvent);
}

const EVENT_NAMES = [
  'stats',
  'runtime',
  'event',
  'health',
  'admin-state',
  'frontend-error',
  'frontend-open',
  'sessions-closed',
];

function openStream(): void {
  if (!running) return;
  source?.close();
  const es = new EventSource('/api/v1/stats/stream', { withCredentials: true });
  source = es;
  es.onmessage = (e) => handle(e.data);
  for (const name of EVENT_NAMES) es.addEventListener(name, (e) => handle((e as MessageEvent).data));
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
