import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, onUnauthorized } from './api.js';
import { Banners } from './components/banner.js';
import { Legend } from './components/badges.js';
import { ConfirmHost } from './components/confirm.js';
import { seconds } from './format.js';
import { lastUpdate, liveMode, startLive, stopLive } from './live.js';
import { Audit } from './pages/audit.js';
import { Charts } from './pages/charts.js';
import { ConfigPage } from './pages/config.js';
import { History } from './pages/history.js';
import { Login } from './pages/login.js';
import { Overview } from './pages/overview.js';
import { Sessions } from './pages/sessions.js';
import { parseHash } from './route.js';
import { currentUser } from './session.js';
import { useStore } from './store.js';
import type { User } from './types.js';

const PAGES = [
  { path: 'overview', label: 'Overview', render: () => <Overview /> },
  { path: 'charts', label: 'Charts', render: () => <Charts /> },
  { path: 'sessions', label: 'Sessions', render: () => <Sessions /> },
  { path: 'config', label: 'Config', render: () => <ConfigPage /> },
  { path: 'history', label: 'History', render: () => <History /> },
  { path: 'audit', label: 'Audit', render: () => <Audit /> },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

type AuthState =
  { phase: 'checking' } | { phase: 'login'; reason?: string } | { phase: 'in'; user: User | null };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ phase: 'checking' });
  const hash = useHash();

  useEffect(() => {
    api
      .get<User>('/auth/me')
      .then((me) => signedIn(me))
      .catch((err) => {
        if (err instanceof ApiError && err.status === 401) setAuth({ phase: 'login' });
        else setAuth({ phase: 'login', reason: `Cannot reach the API: ${err.message}` });
      });
    return onUnauthorized(() => {
      stopLive();
      currentUser.set(null);
      setAuth({ phase: 'login', reason: 'Your session ended; please sign in again.' });
    });
  }, []);

  function signedIn(user: User | null) {
    currentUser.set(user);
    setAuth({ phase: 'in', user });
    startLive();
  }

  async function logout() {
    try {
      await api.post('/auth/logout');
    } catch {
      // Signed out either way.
    }
    stopLive();
    currentUser.set(null);
    setAuth({ phase: 'login', reason: 'Signed out.' });
  }

  if (auth.phase === 'checking') return <p class="muted pad">Connecting…</p>;
  if (auth.phase === 'login') return <Login reason={auth.reason} onLogin={signedIn} />;

  const { page } = parseHash(hash);
  const current = PAGES.find((p) => p.path === page) ?? PAGES[0];
  return (
    <div class="app">
      {/* One sticky block: the banners sit right below the header however tall it wraps. */}
      <div class="top-bar">
        <header class="top">
          <a class="brand" href="#/overview">
            Tether
          </a>
          <nav aria-label="Pages">
            {PAGES.map((p) => (
              <a key={p.path} href={`#/${p.path}`} aria-current={p === current ? 'page' : undefined}>
                {p.label}
              </a>
            ))}
          </nav>
          <LiveIndicator />
          {auth.user && (
            <span class="who">
              {auth.user.username} <span class="muted">({auth.user.role})</span>{' '}
              <button type="button" class="link-button" onClick={logout}>
                Sign out
              </button>
            </span>
          )}
        </header>
        <Banners />
      </div>
      <main class="page" id={`page-${current.path}`} key={current.path === 'history' ? hash : current.path}>
        {current.render()}
      </main>
      <Legend />
      <ConfirmHost />
    </div>
  );
}

function LiveIndicator() {
  const mode = useStore(liveMode);
  const last = useStore(lastUpdate);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const age = last ? (now - last) / 1000 : Infinity;
  const stale = age > 3;
  const label = mode === 'offline' ? 'offline' : stale ? `stale ${last ? seconds(age) : ''}` : mode;
  return (
    <span
      class={`live live-${stale || mode === 'offline' ? 'stale' : mode}`}
      role="status"
      title="statistics feed"
    >
      ● {label}
    </span>
  );
}
