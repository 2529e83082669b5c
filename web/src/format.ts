// Numbers as operators read them: units always shown, short enough for a table cell.

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

/** `n` bytes in the (1024-based) unit of `step`, for chart ticks that share one unit: "50 KB", "1000 B". */
export function bytesInUnitOf(n: number, step: number): string {
  const i = step >= 1 ? Math.min(BYTE_UNITS.length - 1, Math.floor(Math.log2(step) / 10)) : 0;
  return `${Number((n / 1024 ** i).toFixed(2))} ${BYTE_UNITS[i]}`;
}

export function rate(bytesPerSecond: number): string {
  return `${bytes(bytesPerSecond)}/s`;
}

/** Milliseconds as "850 ms", "4.2 s", "3m 12s", "2h 05m", "3d 4h". */
export function ms(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1000) return `${Math.round(n)} ms`;
  return seconds(n / 1000);
}

export function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function count(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

/** `19:53:43`: a time of today, 24-hour whatever the browser's locale (the outage notice, the overview's events). */
export function clock(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return String(epochMs);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function dateTime(epochMs: number | string): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return String(epochMs);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function ago(epochMs: number | string, now = Date.now()): string {
  const t = typeof epochMs === 'string' ? Date.parse(epochMs) : epochMs;
  if (!Number.isFinite(t)) return '–';
  return `${seconds(Math.max(0, (now - t) / 1000))} ago`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
}
