import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { showBanner, showFailure } from '../components/banner.js';
import { seconds } from '../format.js';
import { refreshNow } from '../live.js';
import { can, currentUser } from '../session.js';
import { useStore } from '../store.js';
import type { FrontendStats } from '../types.js';

/** A FAILED frontend's retry schedule and the operator's "Retry bind now". `at`: the server's clock. */
export function FrontendRetry({ frontend: f, at }: { frontend: FrontendStats; at: number }) {
  const user = useStore(currentUser);
  const [busy, setBusy] = useState(false);
  const mayOperate = can(user, 'operator');

  async function retry() {
    setBusy(true);
    try {
      const r = await api.post<FrontendStats>(`/frontends/${seg(f.name)}/retry`);
      showBanner('done', `frontend ${f.name} listens on ${r.bind.address}:${r.bind.port}`);
      refreshNow();
    } catch (err) {
      showFailure(err, `frontend ${f.name}`);
    } finally {
      setBusy(false);
    }
  }

  const next = f.retry ? Math.max(0, Math.round((f.retry.nextAt - at) / 1000)) : undefined;
  return (
    <span class="fe-retry">
      {f.retry && (
        <span class="muted small">
          {f.retry.attempts} retr{f.retry.attempts === 1 ? 'y' : 'ies'}, next in {seconds(next ?? 0)}{' '}
        </span>
      )}
      <button
        type="button"
        class="link-button"
        disabled={busy || !mayOperate}
        title={mayOperate ? `Try to bind ${f.bind.address}:${f.bind.port} now` : 'needs the operator role'}
        onClick={() => void retry()}
      >
        Retry bind
      </button>
    </span>
  );
}
