import { ApiError, reasonOf } from '../api.js';
import { Store, useStore } from '../store.js';

// Result of every action, HAProxy-style: done / nothing changed / denied / failed, each dismissible.
export type BannerKind = 'done' | 'same' | 'denied' | 'error';
export interface Banner {
  id: number;
  kind: BannerKind;
  text: string;
}

const banners = new Store<Banner[]>([]);
let nextId = 1;

export function showBanner(kind: BannerKind, text: string): void {
  const banner = { id: nextId++, kind, text };
  // The newest result replaces the one before: an incident's clicks never stack up and push the table off screen.
  banners.set([banner]);
  if (kind === 'done' || kind === 'same') setTimeout(() => dismiss(banner.id), 10_000);
}

/** A failed request: "Denied" when the API refused it for the caller's role (403), "Failed" otherwise. */
export function showFailure(err: unknown, subject?: string): void {
  const denied = err instanceof ApiError && err.status === 403;
  const reason = reasonOf(err);
  showBanner(denied ? 'denied' : 'error', subject ? `${subject}: ${reason}` : reason);
}

/** Drops every banner (on leaving a page: a result belongs to the page where it happened). */
export function clearBanners(): void {
  if (banners.get().length > 0) banners.set([]);
}

function dismiss(id: number): void {
  banners.set(banners.get().filter((b) => b.id !== id));
}

const PREFIX: Record<BannerKind, string> = {
  done: 'Done',
  same: 'Nothing changed',
  denied: 'Denied',
  error: 'Failed',
};

export function Banners() {
  const list = useStore(banners);
  return (
    <div class="banners" aria-live="polite">
      {list.map((b) => {
        const alert = b.kind === 'error' || b.kind === 'denied';
        return (
          <div key={b.id} class={`banner banner-${b.kind}`} role={alert ? 'alert' : 'status'}>
            <span>
              <b>{PREFIX[b.kind]}:</b> {b.text}
            </span>
            <button type="button" class="dismiss" aria-label="Dismiss" onClick={() => dismiss(b.id)}>
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}
