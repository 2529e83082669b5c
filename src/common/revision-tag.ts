import { ValidationError } from './errors.js';

/** A revision id as an entity tag: `"12"`. Revision 0 means "no revision yet" (an empty config). */
export function revisionTag(revision: number): string {
  return `"${revision}"`;
}

/**
 * Reads `If-Match: "<revision id>"`. Absent or `*` → undefined (no precondition);
 * anything else that is not one quoted revision id is a 400.
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return undefined;
  const match = /^(?:W\/)?"(\d{1,15})"$/.exec(value);
  if (!match) {
    throw new ValidationError(
      `If-Match must be one quoted revision id such as "12", got ${value || 'nothing'}`,
      'If-Match',
    );
  }
  return Number(match[1]);
}
