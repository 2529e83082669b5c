import type { Settings } from '../settings.js';

/** How long the audit log and the revision history are kept (README, "Settings"). */
export interface RetentionSettings {
  auditRetentionDays: number;
  revisionRetentionDays: number;
  /** The newest revisions kept whatever their age; the head is always among them. */
  revisionsKept: number;
}

export const RETENTION_DEFAULTS: RetentionSettings = {
  auditRetentionDays: 90,
  revisionRetentionDays: 90,
  revisionsKept: 1000,
};

export function retentionSettingsOf(settings: Settings): RetentionSettings {
  return {
    auditRetentionDays: settings.auditRetentionDays ?? RETENTION_DEFAULTS.auditRetentionDays,
    revisionRetentionDays: settings.revisionRetentionDays ?? RETENTION_DEFAULTS.revisionRetentionDays,
    revisionsKept: settings.revisionsKept ?? RETENTION_DEFAULTS.revisionsKept,
  };
}
