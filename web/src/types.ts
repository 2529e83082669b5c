// The shapes the API speaks, taken from the server's own contracts so the console cannot drift from them.
export type {
  AdminState,
  BackendStats,
  CmppAccountStats,
  CmppStats,
  FrontendStats,
  ImpactReport,
  RuntimeEvent,
  RuntimeStats,
  ServerStats,
  SessionInfo,
  StatsSample,
} from '../../src/runtime/types.js';
export type { Backend, BackendCheck, Frontend, Server, Snapshot } from '../../src/schema/snapshot.js';
export { isHashed } from '../../src/schema/snapshot.js';

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
  parentId?: number | null;
  kind: string; // 'change' | 'rollback' | 'import' | 'replace'
  author: string;
  message: string;
  createdAt: string | number;
  current?: boolean;
}

export interface AuditEntry {
  id: number;
  at: string | number;
  actor: string;
  role?: string;
  sourceAddress?: string | null;
  action: string;
  target?: string | null;
  result: string; // 'ok' | 'failed' | 'denied'
  detail?: string | Record<string, unknown> | null;
  revisionId?: number | null;
}
