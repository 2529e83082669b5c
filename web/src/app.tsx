import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, offerSignIn, onUnauthorized } from './api.js';
import { Banners, clearBanners } from './components/banner.js';
import { Legend } from './components/badges.js';
import { ConfirmHost } from './components/confirm.js';
import { clock, seconds } from './format.js';
import { lastUpdate, liveMode, restartNotice, startLive, stopLive, unreachableSince } from './live.js';
import { Audit } from './pages/audit.js';
import { Charts } from './pages/charts.js';
import { ConfigPage } from './pages/config.js';
import { History } from './pages/history.js';
import { Events } from './pages/events.js';
import { Login, LoginForm } from './pages/login.js';
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
  { path: 'events', label: 'Events', render: () => <Events /> },
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
  const [signInAgain, setSignInAgain] = useState<SignInRequest | null>(null);
  const unreachable = useStore(unreachableSince);
  const hash = useHash();
  const { page } = parseHash(hash);

  // A banner belongs to the page it was shown on.
  useEffect(() => clearBanners(), [page]);

  // Signed in: an expired login is signed in again in a dialog over the page, which stays as it is.
  useEffect(() => {
    if (auth.phase !== 'in') return;
    return offerSignIn(
      () =>
        new Promise<void>((resolve, reject) => {
          stopLive();
          setSignInAgain({ resolve, reject });
        }),
    );
  }, [auth.phase]);

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

  function signedInAgain(user: User) {
    currentUser.set(user);
    setAuth({ phase: 'in', user });
    const request = signInAgain;
    setSignInAgain(null);
    startLive();
    request?.resolve();
  }

  function giveUpSignIn() {
    signInAgain?.reject(new Error('not signed in'));
    setSignInAgain(null);
    currentUser.set(null);
    setAuth({ phase: 'login', reason: 'Your session ended; please sign in again.' });
  }

  if (auth.phase === 'checking') return <p class="muted pad">Connecting…</p>;
  if (auth.phase === 'login') return <Login reason={auth.reason} onLogin={signedIn} />;

  const current = PAGES.find((p) => p.path === page) ?? PAGES[0];
  const lockReason = unreachable
    ? `The appliance has not answered since ${clock(unreachable)}: actions are disabled until it does.`
    : undefined;
  return (
    <div class={`app${unreachable ? ' unreachable' : ''}`}>
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
        <Outage since={unreachable} />
        <RestartNotice />
        <Banners />
      </div>
      {/* One switch disables every action of every page while the appliance is unreachable; drafts stay. */}
      <fieldset class="page-lock" disabled={!!unreachable} title={lockReason}>
        <main
          class="page"
          id={`page-${current.path}`}
          key={current.path === 'history' || current.path === 'events' ? hash : current.path}
        >
          {current.render()}
        </main>
      </fieldset>
      <Legend />
      <ConfirmHost />
      {signInAgain && <SignInDialog user={auth.user} onLogin={signedInAgain} onGiveUp={giveUpSignIn} />}
    </div>
  );
}

interface SignInRequest {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Signs in again over the open page: what was being edited stays, and the request that met the 401 goes on. */
function SignInDialog({
  user,
  onLogin,
  onGiveUp,
}: {
  user: User | null;
  onLogin: (user: User) => void;
  onGiveUp: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      class="relogin"
      aria-labelledby="login-title"
      onCancel={(e) => e.preventDefault() /* Escape must not leave the draft's request hanging */}
    >
      <LoginForm
        onLogin={onLogin}
        username={user?.username}
        title="Sign in again"
        reason="Your session ended; please sign in again. What you were editing is kept, and the action goes on once you are signed in."
      >
        <button type="button" class="link-button" onClick={onGiveUp}>
          Leave and go to the sign-in page
        </button>
      </LoginForm>
    </dialog>
  );
}

/** The appliance stopped answering: say since when, and that the figures are from then. */
function Outage({ since }: { since: number }) {
  if (!since) return null;
  return (
    <div class="outage" role="alert" data-testid="outage">
      <b>Unreachable since {clock(since)}</b>: the appliance does not answer. The figures below are from then,
      and actions are disabled until it answers again.
    </div>
  );
}

/** The appliance came back from a restart: when, and the sessions it had when last seen (a restart drops them). */
function RestartNotice() {
  const notice = useStore(restartNotice);
  if (!notice) return null;
  return (
    <div class="restart-notice" role="status" data-testid="restarted">
      <span>
        <b>The appliance restarted at {clock(notice.startedAt)}</b>; {notice.dropped} session
        {notice.dropped === 1 ? ' was' : 's were'} dropped (open when last seen at {clock(notice.lastSeenAt)}
        ).
      </span>
      <button type="button" class="dismiss" aria-label="Dismiss" onClick={() => restartNotice.set(null)}>
        ×
      </button>
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
