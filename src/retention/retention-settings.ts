import type { Settings } from '../settings.js';

/** How long the audit log, the revision history, the event log and chart samples are kept (README, "Settings"). */
export interface RetentionSettings {
  auditRetentionDays: number;
  revisionRetentionDays: number;
  /** The newest revisions kept whatever their age; the head is always among them. */
  revisionsKept: number;
  eventRetentionDays: number;
  /** The newest events kept at most, whatever their age (a flapping server can't fill the disk). */
  eventsKept: number;
  sampleRetentionHours: number;
}

export const RETENTION_DEFAULTS: RetentionSettings = {
  auditRetentionDays: 90,
  revisionRetentionDays: 90,
  revisionsKept: 1000,
  eventRetentionDays: 90,
  eventsKept: 100_000,
  sampleRetentionHours: 24,
};

export function retentionSettingsOf(settings: Settings): RetentionSettings {
  return {
    auditRetentionDays: settings.auditRetentionDays ?? RETENTION_DEFAULTS.auditRetentionDays,
    revisionRetentionDays: settings.revisionRetentionDays ?? RETENTION_DEFAULTS.revisionRetentionDays,
    revisionsKept: settings.revisionsKept ?? RETENTION_DEFAULTS.revisionsKept,
    eventRetentionDays: settings.eventRetentionDays ?? RETENTION_DEFAULTS.eventRetentionDays,
    eventsKept: settings.eventsKept ?? RETENTION_DEFAULTS.eventsKept,
    sampleRetentionHours: settings.sampleRetentionHours ?? RETENTION_DEFAULTS.sampleRetentionHours,
  };
}
