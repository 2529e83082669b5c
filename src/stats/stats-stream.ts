// GET /stats/stream: a `stats` event at once and then every second, and each runtime event under its own
// type (health, admin-state, frontend-error, frontend-open, sessions-closed) the moment it happens.
import type { MessageEvent } from '@nestjs/common';
import { catchError, defer, EMPTY, exhaustMap, map, merge, type Observable, timer } from 'rxjs';
import type { RuntimeEvent, RuntimeStats, StatsOptions } from '../runtime/types.js';

export const STATS_INTERVAL_MS = 1000;

export interface StatsStreamSource {
  stats(options?: StatsOptions): Promise<RuntimeStats>;
  events(): Observable<RuntimeEvent>;
}

export function statsStream(source: StatsStreamSource): Observable<MessageEvent> {
  // exhaustMap: a slow stats() call skips a tick instead of piling calls up; a failed one (runtime closing)
  // skips that tick instead of ending the client's stream.
  const ticks = timer(0, STATS_INTERVAL_MS).pipe(
    // The per-account CMPP table (up to 10,001 rows) is left to GET /stats: not worth building every second.
    exhaustMap(() => defer(() => source.stats({ cmppAccounts: false })).pipe(catchError(() => EMPTY))),
    map(({ cmppAccounts: _, ...stats }): MessageEvent => ({
      type: 'stats',
      data: { ...stats, serverTime: Date.now() },
    })),
  );
  const events = source.events().pipe(map((event): MessageEvent => ({ type: event.type, data: event })));
  return merge(ticks, events);
}
