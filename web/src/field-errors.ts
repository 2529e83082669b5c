// The API lists every problem of a refused request as `errors: [{ field, code, message }]`, each field a
// path relative to the request (`bind.port`, `servers[1].address`, `frontends[3].bind`). The console
// puts each message beside its input, without the path it starts with (the input already says which).
import { ApiError } from './api.js';

export type FieldErrors = Record<string, string[]>;

export function fieldErrorsOf(err: unknown): FieldErrors {
  if (!(err instanceof ApiError)) return { '': [err instanceof Error ? err.message : String(err)] };
  const out: FieldErrors = {};
  for (const entry of err.problems) (out[entry.field] ??= []).push(entry.message);
  return out;
}

/** Errors under `prefix` (e.g. "frontends[2]."), re-keyed relative to it; the rest stays where it was. */
export function scoped(errors: FieldErrors, prefixes: string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const prefix = prefixes.find((p) => path.startsWith(p));
    const key = prefix !== undefined ? path.slice(prefix.length) : path;
    (out[key] ??= []).push(
      ...messages.map((m) => (prefix && m.startsWith(prefix) ? m.slice(prefix.length) : m)),
    );
  }
  return out;
}

/** Messages for the field `key`, each without the path it starts with ("must not be greater than 65535"). */
export function errorsFor(errors: FieldErrors, key: string): string[] {
  return (errors[key] ?? []).map((message) => withoutField(message, key));
}

function withoutField(message: string, key: string): string {
  if (!message.startsWith(key)) return message;
  const rest = message.slice(key.length).replace(/^:?\s+/, '');
  return rest || message;
}

/** Messages that no input claims, for the form-level box. Patterns claim indexed keys such as servers[2].port. */
export function unclaimed(errors: FieldErrors, claimed: string[], claimedPatterns: RegExp[] = []): string[] {
  return Object.entries(errors)
    .filter(([k]) => !claimed.includes(k) && !claimedPatterns.some((pattern) => pattern.test(k)))
    .flatMap(([, m]) => m);
}
