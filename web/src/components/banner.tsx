import { Store, useStore } from '../store.js';

// Result of every action, HAProxy-style: done / nothing changed / denied or failed, each dismissible.
export type BannerKind = 'done' | 'same' | 'error';
export interface Banner {
  id: number;
  kind: BannerKind;
  text: string;
}

const banners = new Store<Banner[]>([]);
let nextId = 1;

export function showBanner(kind: BannerKind, text: string): void {
  const banner = { id: nextId++, kind, text };
  // Newest first; keep only a handful so an incident's clicks don't push the table off screen.
  banners.set([banner, ...banners.get()].slice(0, 3));
  if (kind !== 'error') setTimeout(() => dismiss(banner.id), 10_000);
}

function dismiss(id: number): void {
  banners.set(banners.get().filter((b) => b.id !== id));
}

const PREFIX: Record<BannerKind, string> = { done: 'Done', same: 'Nothing changed', error: 'Failed' };

export function Banners() {
  const list = useStore(banners);
  return (
    <div class="banners" aria-live="polite">
      {list.map((b) => (
        <div key={b.id} class={`banner banner-${b.kind}`} role={b.kind === 'error' ? 'alert' : 'status'}>
          <span>
            <b>{b.text.startsWith('denied') ? 'Denied' : PREFIX[b.kind]}:</b>{' '}
            {b.text.replace(/^denied: /, '')}
          </span>
          <button type="button" class="dismiss" aria-label="Dismiss" onClick={() => dismiss(b.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
