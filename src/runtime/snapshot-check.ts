// The runtime's own check of a snapshot before anything changes: the one schema check
// (schema/check.ts) that the control plane runs too, stopped at the first issue. It guards the data
// plane against anything that slipped through (or a direct caller). Values the schema knows but the
// control plane refuses as not built yet are served as the runtime can (see CheckOptions.stored).
import { checkSnapshot as checkAgainstSchema } from '../schema/check.js';
import type { Frontend, Snapshot } from '../schema/snapshot.js';
import { RuntimeError, type RuntimeErrorSubject } from './errors.js';

/** Throws RuntimeError INVALID_SNAPSHOT naming the first offending field. */
export function checkSnapshot(snapshot: Snapshot): void {
  fillBinds(snapshot);
  const [issue] = checkAgainstSchema(snapshot, { maxIssues: 1 });
  if (!issue) return;
  throw new RuntimeError('INVALID_SNAPSHOT', issue.message, subjectOf(snapshot, issue.field));
}

/**
 * A direct caller (or a snapshot written before `binds`) may give only `bind`, or only `binds`: the
 * other is filled in on the runtime's own copy, as config/normalize.ts does.
 */
function fillBinds(snapshot: Snapshot): void {
  if (typeof snapshot !== 'object' || snapshot === null || !Array.isArray(snapshot.frontends)) return;
  for (const f of snapshot.frontends as Array<Partial<Frontend> | null>) {
    if (typeof f !== 'object' || f === null) continue;
    if (f.binds === undefined && typeof f.bind === 'object' && f.bind !== null) f.binds = [f.bind];
    else if (f.bind === undefined && Array.isArray(f.binds)) f.bind = f.binds[0];
  }
}

/** The frontend, backend and server a field such as `backends[1].servers[0].port` lies in. */
function subjectOf(snapshot: Snapshot, field: string): RuntimeErrorSubject {
  const subject: RuntimeErrorSubject = { field };
  const item = /^(frontends|backends)\[(\d+)\](?:\.servers\[(\d+)\])?/.exec(field);
  if (!item) return subject;
  const name = (value: unknown) => {
    const n = (value as { name?: unknown } | undefined)?.name;
    return typeof n === 'string' ? n : undefined;
  };
  if (item[1] === 'frontends') {
    subject.frontend = name(snapshot.frontends?.[Number(item[2])]);
    return subject;
  }
  const backend = snapshot.backends?.[Number(item[2])];
  subject.backend = name(backend);
  if (item[3] !== undefined) subject.server = name(backend?.servers?.[Number(item[3])]);
  return subject;
}
