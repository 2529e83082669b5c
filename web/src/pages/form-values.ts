// Form inputs hold text; the API gets numbers where it expects them, and the raw text where the text is not a
// number, so that the API's own message ("bind.port must be an integer") is what the operator reads.
import { useEffect, useState } from 'preact/hooks';
import { formatDuration, toMilliseconds } from '../../../src/schema/durations.js';
import { errorsFor, type FieldErrors } from '../field-errors.js';

export function num(text: string): number | string {
  const t = text.trim();
  if (t === '') return t;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

export function optionalNum(text: string): number | string | undefined {
  return text.trim() === '' ? undefined : num(text);
}

export function str(v: number | string | undefined | null): string {
  return v === undefined || v === null ? '' : String(v);
}

export const inputValue = (e: Event) => (e.target as HTMLInputElement).value;
export const inputChecked = (e: Event) => (e.target as HTMLInputElement).checked;

/**
 * A timeout or interval as typed: `5s`, `500ms`, `1m`, `2d` or milliseconds become milliseconds (the API's
 * own parser, src/schema/durations.ts); anything else goes as typed, for the API to name.
 */
export function duration(text: string): number | string {
  const t = text.trim();
  return t === '' ? t : (toMilliseconds(t) as number | string);
}

export function optionalDuration(text: string): number | string | undefined {
  return text.trim() === '' ? undefined : duration(text);
}

/** Milliseconds as the form shows them: `5s`, `1h`, `1500ms`; empty for none. */
export function durationText(ms: number | undefined | null): string {
  return ms === undefined || ms === null ? '' : formatDuration(ms);
}

/**
 * The API's messages for a form's fields, each dropped once its field is edited (the next review checks
 * it again): a fixed field no longer says what was wrong with it. A new refusal shows every message again.
 */
export function useFieldErrors(errors: FieldErrors) {
  const [editedKeys, setEditedKeys] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => setEditedKeys(new Set()), [errors]);
  const edited = (key: string) => setEditedKeys((s) => (s.has(key) ? s : new Set([...s, key])));
  return {
    of: (key: string): string[] => (editedKeys.has(key) ? [] : errorsFor(errors, key)),
    edited,
    /** An input's handler: sets the value and drops the API's messages about `keys`. */
    edit:
      <T>(set: (v: T) => void, ...keys: string[]) =>
      (v: T) => {
        set(v);
        keys.forEach(edited);
      },
  };
}
