// Form inputs hold text; the API gets numbers where it expects them, and the raw text where the text is not a
// number, so that the API's own message ("bind.port must be an integer") is what the operator reads.

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
