import { lazy, Suspense, useEffect, useState } from 'react';
import { api, currentMode, setMode, whenSignedOut, type Mode } from './api.ts';
import { Loading } from './components.tsx';
import { Link, useLocation } from './router.tsx';
import { CustomerDetail } from './pages/CustomerDetail.tsx';
import { Customers } from './pages/Customers.tsx';
import { EmailDetail } from './pages/EmailDetail.tsx';
import { Emails } from './pages/Emails.tsx';
import { Overview } from './pages/Overview.tsx';
import { PaymentDetail } from './pages/PaymentDetail.tsx';
import { Payments } from './pages/Payments.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { SignUp } from './pages/SignUp.tsx';
import { Settings } from './pages/Settings.tsx';
import { Stripe } from './pages/Stripe.tsx';
import { Webhooks } from './pages/Webhooks.tsx';

export interface Account {
  id: string;
  email: string;
  business_name: string;
}

/** Signed out: no account (a 200, not a 401, so the first look logs nothing in the console). */
interface SessionJson {
  account: Account | null;
  expires_at: string | null;
}

// The analytics page carries the chart library: loaded when first opened, not with every page.
const Analytics = lazy(() => import('./pages/Analytics.tsx').then((m) => ({ default: m.Analytics })));

const NAV: [path: string, label: string][] = [
  ['', 'Overview'],
  ['analytics', 'Analytics'],
  ['payments', 'Payments'],
  ['customers', 'Customers'],
  ['stripe', 'Stripe'],
  ['emails', 'Emails'],
  ['webhooks', 'Webhooks'],
  ['settings', 'Settings'],
];

export function App() {
  const [account, setAccount] = useState<Account | null | 'checking'>('checking');
  const [mode, setModeState] = useState<Mode>(currentMode());
  const loc = useLocation();

  useEffect(() => {
    whenSignedOut(() => setAccount(null));
    api<SessionJson>('GET', '/dashboard/api/session').then(
      (s) => setAccount(s.account),
      () => setAccount(null),
    );
  }, []);

  if (account === 'checking') return <Loading />;
  if (!account) return loc.path === 'signup' ? <SignUp onSignedIn={(a) => setAccount(a)} /> : <SignIn onSignedIn={(a) => setAccount(a)} />;

  const switchMode = (m: Mode) => {
    setMode(m);
    setModeState(m);
  };
  const signOut = async () => {
    await api('DELETE', '/dashboard/api/session').catch(() => null);
    setAccount(null);
  };
  const section = loc.path.split('/')[0] ?? '';

  return (
    <div className={`shell mode-${mode}`}>
      <header className="top">
        <span className="brand">Rescue</span>
        <nav aria-label="Main">
          {NAV.map(([path, label]) => (
            <Link key={path} to={`/dashboard/${path}`} aria-current={section === path ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="mode-switch" role="group" aria-label="Mode">
          {(['test', 'live'] as const).map((m) => (
            <button key={m} type="button" aria-pressed={mode === m} onClick={() => switchMode(m)}>
              {m === 'test' ? 'Test' : 'Live'}
            </button>
          ))}
        </div>
        <span className="who" title={account.id}>
          {account.email}
        </span>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      {mode === 'test' && (
        <p className="test-banner" role="status">
          Test mode: test payments, sandbox cards, test Stripe connections.
        </p>
      )}
      {/* key: every page loads again for the other mode */}
      <main key={mode}>{page(loc.path, mode)}</main>
    </div>
  );
}

function page(path: string, mode: Mode) {
  const [head, id] = path.split('/');
  switch (head) {
    case '':
      return <Overview mode={mode} />;
    case 'payments':
      return id ? <PaymentDetail id={decodeURIComponent(id)} /> : <Payments />;
    case 'analytics':
      return (
        <Suspense fallback={<Loading />}>
          <Analytics />
        </Suspense>
      );
    case 'customers':
      return id ? <CustomerDetail id={decodeURIComponent(id)} /> : <Customers />;
    case 'stripe':
      return <Stripe mode={mode} />;
    case 'emails':
      return id ? <EmailDetail id={decodeURIComponent(id)} /> : <Emails />;
    case 'webhooks':
      return <Webhooks />;
    case 'settings':
      return <Settings mode={mode} />;
    // Signed in already (a bookmark, Back after signing up): the overview.
    case 'signup':
      return <Overview mode={mode} />;
    default:
      return (
        <p>
          No such page. <Link to="/dashboard/">Go to the overview</Link>.
        </p>
      );
  }
}
