// When each server last got a session, for HAProxy's `lastsess` column. The runtime doesn't keep it,
// but live sessions give it exactly and the once-a-second history brackets it to the second.
import type { RuntimeStats, SessionInfo, StatsSample } from '../runtime/types.js';

/** Epoch ms of the latest session per "backend/server"; absent when the server never had one. */
export function lastSessionTimes(
  stats: RuntimeStats,
  sessions: SessionInfo[],
  history: StatsSample[],
): Map<string, number> {
  const times = new Map<string, number>();
  const later = (key: string, at: number) => times.set(key, Math.max(at, times.get(key) ?? 0));

  for (const session of sessions) {
    if (session.server !== null) later(`${session.backend}/${session.server}`, session.startedAt);
  }
  for (const backend of stats.backends) {
    for (const server of backend.servers) {
      if (server.stot === 0) continue;
      const key = `${backend.name}/${server.name}`;
      const at = fromHistory(key, server.stot, history, stats.at);
      if (at !== undefined) later(key, at);
    }
  }
  return times;
}

/** The first sample that already counted the latest session (or now, if none has yet); the oldest sample when
 *  the session predates the whole history (a lower bound, like HAProxy's after a long idle). */
function fromHistory(key: string, stot: number, history: StatsSample[], now: number): number | undefined {
  let seenAt = now;
  for (let i = history.length - 1; i >= 0; i--) {
    const sample = history[i]!;
    const counted = sample.servers[key]?.stot;
    if (counted === undefined || counted < stot) return seenAt;
    seenAt = sample.t;
  }
  return history.length > 0 ? seenAt : undefined;
}
