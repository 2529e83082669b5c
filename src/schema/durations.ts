// Durations as HAProxy writes them (`5s`, `500ms`, `1m`, `1h`, `2d`, `10us`) or plain milliseconds. One
// parser for the REST API (DTO transform), the config check's messages, the haproxy.cfg import and the
// console, so every door accepts the same spellings. Bottom layer: imports nothing from the rest of src.

/** Milliseconds per unit of HAProxy's time values (`us` is rounded up to whole milliseconds). */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `5000`, `5000ms`, `5s`, `2m`, `1h`, `1d`, `500us`: HAProxy's syntax, digits then an optional unit. */
const DURATION_SYNTAX = /^(\d{1,15})(us|ms|s|m|h|d)?$/;

export const DURATION_RULE_TEXT = 'must be a duration like 5s, 500ms, 1m or milliseconds';

/**
 * The exact milliseconds a duration text means (fractional for `us`), or undefined when it is not
 * one. Unitless means milliseconds, as in HAProxy. Surrounding blanks are allowed; inner ones are not.
 */
export function durationExactMs(text: string): number | undefined {
  const match = DURATION_SYNTAX.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * TIME_UNITS[match[2] ?? 'ms'];
}

/**
 * What a client sent for a duration field, as whole milliseconds: a number stays as it is, a duration
 * text becomes its milliseconds (microseconds rounded up). Anything else is returned unchanged, for
 * the field's check to name it.
 */
export function toMilliseconds(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const exact = durationExactMs(value);
  return exact === undefined ? value : Math.ceil(exact);
}

/** `5000` → `5s`, `90000` → `90s`, `86400000` → `1d`, `1500` → `1500ms`: the largest unit that is exact. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms <= 0) return `${ms}ms`;
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % TIME_UNITS[unit] === 0) return `${ms / TIME_UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
