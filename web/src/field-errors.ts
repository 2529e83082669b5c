// The API names the bad field as a path (`bind.port`, `frontends[1].bind.port`) and joins every problem
// into one message; split them back so each message can sit beside its input (without the path: the input
// already says which field it is).
import { ApiError } from './api.js';

export type FieldErrors = Record<string, string[]>;

const PATH = /^([A-Za-z_][\w]*(?:\[[^\]]+\]|\.[A-Za-z_][\w]*)*)(?::|\s)/;

export function fieldErrorsOf(err: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (!(err instanceof ApiError)) return { '': [err instanceof Error ? err.message : String(err)] };
  const field = typeof err.body.field === 'string' ? err.body.field : undefined;
  const parts = err.messages.flatMap((m) => m.split('; ')).filter(Boolean);
  for (const part of parts) {
    const match = PATH.exec(part);
    // A message that starts with a word of its field ("bind 1.2.3.4:5 overlaps …" for `frontends[1].bind`)
    // belongs to the field the API named.
    const fieldIsMoreExact = field !== undefined && match !== null && field.endsWith(`.${match[1]}`);
    const path =
      match &&
      !fieldIsMoreExact &&
      (match[1] === field || match[1].includes('.') || match[1].includes('[') || KNOWN.has(match[1]))
        ? match[1]
        : (field ?? '');
    (out[path] ??= []).push(part);
  }
  if (parts.length === 0) out[field ?? ''] = [err.message];
  return out;
}

const KNOWN = new Set([
  'name',
  'backend',
  'maxconn',
  'allow',
  'inspect',
  'enabled',
  'balance',
  'hashType',
  'sendProxy',
  'onMarkedDown',
  'servers',
  'address',
  'port',
  'weight',
  'backup',
  'check',
  'bind',
  'message',
]);

/** Errors under `prefix` (e.g. "frontends[2]."), re-keyed relative to it; the rest stays under ''. */
export function scoped(errors: FieldErrors, prefixes: string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const prefix = prefixes.find((p) => path.startsWith(p));
    const key = prefix !== undefined ? path.slice(prefix.length) : path;
    (out[key] ??= []).push(...messages);
  }
  return out;
}

/** Messages for the field `key`, each without the path it starts with ("must not be greater than 65535"). */
export function errorsFor(errors: FieldErrors, key: string): string[] {
  return (errors[key] ?? []).map((message) => withoutPath(message, key));
}

function withoutPath(message: string, key: string): string {
  const match = PATH.exec(message);
  if (!match) return message;
  const path = match[1];
  if (path !== key && !path.endsWith(`.${key}`)) return message;
  return message.slice(match[0].length).trim() || message;
}

/** Messages that no input claims, for the form-level box. Patterns claim indexed keys such as servers[2].port. */
export function unclaimed(errors: FieldErrors, claimed: string[], claimedPatterns: RegExp[] = []): string[] {
  return Object.entries(errors)
    .filter(([k]) => !claimed.includes(k) && !claimedPatterns.some((pattern) => pattern.test(k)))
    .flatMap(([, m]) => m);
}
