// The shapes the API speaks, taken from the server's own contracts so the console cannot drift from them.
export type {
  AdminState,
  BackendStats,
  FrontendStats,
  ImpactReport,
  RuntimeEvent,
  RuntimeStats,
  ServerStats,
  SessionInfo,
  StatsSample,
} from '../../src/runtime/types.js';
export type { Backend, BackendCheck, Frontend, Server, Snapshot } from '../../src/config/snapshot.js';

export interface User {
  username: string;
  role: 'viewer' | 'operator' | 'admin';
}

export interface DiffChange {
  path: string;
  kind: string; // 'added' | 'removed' | 'changed'
  before?: unknown;
  after?: unknown;
}

export interface SnapshotDiff {
  changes: DiffChange[];
  text: string;
}

export interface Revision {
  id: number;
  createdAt: string | number;
  author?: string;
  user?: string;
  actor?: string;
  kind?: string;
  message?: string | null;
  current?: boolean;
  parentId?: number | null;
}

export interface AuditEntry {
  id: number;
  at?: string | number;
  createdAt?: string | number;
  username?: string;
  user?: string;
  role?: string;
  source?: string;
  sourceAddress?: string;
  action: string;
  target?: string;
  result?: string;
  detail?: string | Record<string, unknown> | null;
  revisionId?: number | null;
}
