// Live stats: one EventSource for the whole console (`stats` every second plus runtime events);
// if the stream fails, poll GET /stats every second and retry the stream later, showing which mode is on.
// It also tells when the appliance stops answering (after STALE_MS without figures, or at once when a poll
// cannot reach it) and when it came back from a restart (its start time moved), with the sessions that had.
import { api, ApiError } from './api.js';
import { Store } from './store.js';
import type { RuntimeEvent, RuntimeStats } from './types.js';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

export const liveStats = new Store<RuntimeStats | null>(null);
export const liveMode = new Store<LiveMode>('connecting');
/** Recent runtime events, newest first. */
export const liveEvents = new Store<RuntimeEvent[]>([]);
/** Wall-clock time of the last stats received, to show staleness. */
export const lastUpdate = new Store<number>(0);

/** Without figures for this long the appliance counts as unreachable (issue 13: "within 3 s"). */
export const STALE_MS = 2000;
/** Since when (the time of the last figures) the appliance has not answered; 0 while it answers. */
export const unreachableSince = new Store<number>(0);

export interface RestartNotice {
  /** When the appliance started again (its clock). */
  startedAt: number;
  /** Sessions it held in the last figures seen before: a restart drops every live session. */
  dropped: number;
  /** When those last figures were taken. */
  lastSeenAt: number;
}
/** The last restart seen while the console was open; null when none (or dismissed). */
export const restartNotice = new Store<RestartNotice | null>(null);
/** The start time and session count of the last figures, to notice a restart; kept in localStorage so that a
 *  page reloaded during the outage still tells. */
interface LastSeen {
  startedAt: number;
  sessions: number;
  at: number;
}
const LAST_SEEN_KEY = 'tether.lastSeen';
/** Figures older than this say nothing useful about a restart seen now. */
const LAST_SEEN_MAX_AGE_MS = 60 * 60_000;
let lastSeen: LastSeen | null = loadLastSeen();

function loadLastSeen(): LastSeen | null {
  try {
    const stored = JSON.parse(localStorage.getItem(LAST_SEEN_KEY) ?? 'null') as LastSeen | null;
    return stored && Date.now() - stored.at < LAST_SEEN_MAX_AGE_MS ? stored : null;
  } catch {
    return null;
  }
}

function saveLastSeen(seen: LastSeen): void {
  try {
    localStorage.setItem(LAST_SEEN_KEY, JSON.stringify(seen));
  } catch {
    // Private mode or full storage: the restart is still noticed while the page stays open.
  }
}
/** `at - uptime` lands within (start, start + 1 s] (uptime is whole seconds, rounded down): two estimates of one
 *  run differ by less than this; a later start by more. */
const SAME_RUN_MS = 1000;

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
  const startedAt = stats.at - stats.uptime * 1000;
  if (lastSeen && startedAt - lastSeen.startedAt > SAME_RUN_MS)
    restartNotice.set({ startedAt, dropped: lastSeen.sessions, lastSeenAt: lastSeen.at });
  lastSeen = { startedAt, sessions: stats.frontends.reduce((n, f) => n + f.scur, 0), at: stats.at };
  saveLastSeen(lastSeen);
  liveStats.set(stats);
  lastUpdate.set(Date.now());
  if (unreachableSince.get()) unreachableSince.set(0);
  statsListeners.forEach((l) => l(stats));
}

function markUnreachable(): void {
  if (!unreachableSince.get()) unreachableSince.set(lastUpdate.get() || Date.now());
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

/** One poll at a time: a hung appliance (stopped, not gone) must not pile up a request a second. */
let polling = false;

async function pollOnce(): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    receive(await api.get<RuntimeStats>('/stats'));
    if (liveMode.get() !== 'live') liveMode.set('polling');
  } catch (err) {
    liveMode.set('offline');
    // No answer at all, or a proxy's 502/503/504 in front of it: the appliance is not there.
    if (!(err instanceof ApiError) || err.status >= 502) markUnreachable();
  } finally {
    polling = false;
  }
}

let watchdog: ReturnType<typeof setInterval> | undefined;
function watchStaleness(): void {
  watchdog = setInterval(() => {
    const last = lastUpdate.get();
    if (last && Date.now() - last > STALE_MS) {
      markUnreachable();
      // The stream may hang without an error: ask directly too.
      startPolling();
    }
  }, 250);
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
  void seedEvents();
  openStream();
  watchStaleness();
}

interface StoredEvent {
  type: string;
  detail: RuntimeEvent;
}

/** The recent events from the stored log, so a reload still shows "gw1 UP → DOWN (L4CON)". */
async function seedEvents(): Promise<void> {
  try {
    const stored = await api.get<StoredEvent[]>('/events?limit=20');
    const known = new Set(liveEvents.get().map((e) => JSON.stringify(e)));
    const older = stored
      .filter((e) => e.type !== 'appliance-start')
      .map((e) => e.detail)
      .filter((e) => !known.has(JSON.stringify(e)));
    liveEvents.set([...liveEvents.get(), ...older].sort((a, b) => b.at - a.at).slice(0, 20));
  } catch {
    // The live events still come; the stored ones are on the Events page.
  }
}

export function stopLive(): void {
  running = false;
  source?.close();
  source = null;
  stopPolling();
  if (retryTimer) clearTimeout(retryTimer);
  clearInterval(watchdog);
  unreachableSince.set(0);
}

/** Fetch now (after an action) instead of waiting for the next tick. */
export function refreshNow(): void {
  void pollOnce();
}
