import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import type { Account } from '../App.tsx';
import { Link } from '../router.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: (a: Account) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<{ account: Account }>('POST', '/dashboard/api/session', { email, password });
      onSignedIn(s.account);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Rescue could not be reached. Try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <h1>Sign in to Rescue</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <p className="error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New to Rescue? <Link to="/dashboard/signup">Create an account</Link>
      </p>
      <p className="muted">
        First start of Rescue? <code>npm start</code> printed the sandbox account's email and password.
      </p>
    </main>
  );
}
