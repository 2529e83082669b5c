import type { RuntimeEvent } from '../runtime/types.js';

/** The one-line text an event is stored and shown with. */
export function describeEvent(e: RuntimeEvent): string {
  switch (e.type) {
    case 'health':
      return `${e.backend}/${e.server} ${e.from} → ${e.to}${e.checkStatus ? ` (${e.checkStatus})` : ''}`;
    case 'admin-state':
      return `${e.backend}/${e.server} ${e.from.toUpperCase()} → ${e.to.toUpperCase()}`;
    case 'frontend-error':
      return `frontend ${e.frontend} FAILED: ${e.code} ${e.message}`;
    case 'frontend-open':
      return `frontend ${e.frontend} listens on ${e.address}:${e.port}`;
    case 'sessions-closed':
      return `${e.backend}/${e.server}: ${e.count} sessions closed (${e.reason})`;
    case 'worker-exit':
      return `worker ${e.worker} (pid ${e.pid}) died (${e.signal ?? `exit ${e.code}`}): ${e.lostSessions} sessions lost`;
  }
}

/** The frontend, backend and server an event concerns, for filtering. */
export function subjectOf(e: RuntimeEvent): {
  frontend: string | null;
  backend: string | null;
  server: string | null;
} {
  switch (e.type) {
    case 'frontend-error':
    case 'frontend-open':
      return { frontend: e.frontend, backend: null, server: null };
    case 'worker-exit':
      return { frontend: null, backend: null, server: null };
    default:
      return { frontend: null, backend: e.backend, server: e.server };
  }
}
