import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { User } from '../types.js';

interface LoginAnswer {
  user?: User;
  token?: string;
  expiresAt?: string | number;
}

export function Login({ onLogin, reason }: { onLogin: (user: User) => void; reason?: string }) {
  return (
    <main class="login">
      <LoginForm onLogin={onLogin} reason={reason} />
    </main>
  );
}

/** The sign-in form, on the login page and in the dialog that signs in again over an open page. */
export function LoginForm({
  onLogin,
  reason,
  username: fixedUser,
  title = 'Tether',
  children,
}: {
  onLogin: (user: User) => void;
  reason?: string;
  username?: string;
  title?: string;
  children?: ComponentChildren;
}) {
  const [username, setUsername] = useState(fixedUser ?? 'admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const answer = await api.post<LoginAnswer>('/auth/login', { username, password });
      onLogin(answer?.user ?? { username, role: 'viewer' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Wrong user name or password.');
      else if (err instanceof ApiError && err.status === 429)
        setError('Too many attempts; wait a minute and try again.');
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="login-title" class="login-form">
      <h1 id="login-title">{title}</h1>
      {reason && <p class="muted">{reason}</p>}
      <label>
        User name
        <input
          name="username"
          autoComplete="username"
          required
          value={username}
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
      </label>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {children}
    </form>
  );
}
