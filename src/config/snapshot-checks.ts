// The control plane's check of a candidate snapshot: the one schema check (schema/check.ts) against
// the snapshot in effect, with its issues ordered so the one the request is about comes first.
import { isDeepStrictEqual } from 'node:util';
import { checkSnapshot, type SnapshotIssue } from '../schema/check.js';
import type { Snapshot } from '../schema/snapshot.js';

export type { IssueKind, SnapshotIssue } from '../schema/check.js';

/**
 * Every issue of `candidate` (up to LIMITS.issues), most relevant first: one under `focus` (the item
 * a request edits, e.g. `frontends[2]`), else one in an item the change touched, else document order.
 * A clash has two ends; this names the end the caller changed.
 */
export function checkCandidate(candidate: Snapshot, stored: Snapshot, focus?: string): SnapshotIssue[] {
  const issues = checkSnapshot(candidate, { stored });
  if (issues.length < 2) return issues;
  const under = focus ? issues.find((i) => i.field.startsWith(`${focus}.`)) : undefined;
  const lead = under ?? issues.find((i) => touchesChangedItem(i.field, candidate, stored)) ?? issues[0];
  return [lead, ...issues.filter((i) => i !== lead)];
}

/** Whether `field` (such as `frontends[1].bind`) lies in a frontend or backend that is new or differs from `stored`. */
function touchesChangedItem(field: string, candidate: Snapshot, stored: Snapshot): boolean {
  const match = /^(frontends|backends)\[(\d+)\]/.exec(field);
  if (!match) return false;
  const list = match[1] as 'frontends' | 'backends';
  const item = candidate[list][Number(match[2])];
  if (!item) return false;
  const before = (stored[list] as Array<{ name: string }>).find((x) => x.name === item.name);
  return !before || !isDeepStrictEqual(before, item);
}
