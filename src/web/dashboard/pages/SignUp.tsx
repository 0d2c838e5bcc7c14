import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import type { Account } from '../App.tsx';
import { errorFor, Field, formError, FormNote, SecretOnce, type FormError } from '../forms.tsx';
import { Link, navigate } from '../router.tsx';

// Creates the account (POST /signup, the API's own), signs in, and shows the two API keys once.

interface Created {
  account: Account;
  api_keys: { test: string; live: string };
}

export function SignUp({ onSignedIn }: { onSignedIn: (a: Account) => void }) {
  const [form, setForm] = useState({ business_name: '', email: '', password: '' });
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await api<Created>('POST', '/signup', form);
      await api('POST', '/dashboard/api/session', { email: form.email, password: form.password });
      setCreated(c);
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <main className="signup-keys">
        <h1>Welcome to Rescue</h1>
        <p>Your account {created.account.email} is ready and you are signed in. Your API keys:</p>
        <SecretOnce label="Test API key" secret={created.api_keys.test} onDone={() => undefined} />
        <SecretOnce label="Live API key" secret={created.api_keys.live} onDone={() => undefined} />
        <button
          type="submit"
          onClick={() => {
            navigate('/dashboard/settings', { replace: true });
            onSignedIn(created.account);
          }}
        >
          Continue to settings
        </button>
      </main>
    );
  }

  return (
    <main className="signin">
      <h1>Create your Rescue account</h1>
      <form onSubmit={submit} aria-label="Sign up" noValidate>
        <Field label="Business name" error={errorFor(error, 'business_name')}>
          {(p) => <input {...p} name="business_name" autoComplete="organization" required value={form.business_name} onChange={set('business_name')} />}
        </Field>
        <Field label="Email" error={errorFor(error, 'email')}>
          {(p) => <input {...p} type="email" name="email" autoComplete="username" required value={form.email} onChange={set('email')} />}
        </Field>
        <Field label="Password" error={errorFor(error, 'password')} hint="At least 8 characters.">
          {(p) => <input {...p} type="password" name="password" autoComplete="new-password" required value={form.password} onChange={set('password')} />}
        </Field>
        <FormNote error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p className="muted">
        Already have an account? <Link to="/dashboard/">Sign in</Link>
      </p>
    </main>
  );
}
