import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

// A few pages need no router library: paths under /dashboard/, the History API, and one hook.
// The server answers any /dashboard/… path with index.html (src/api/dashboard-static.ts).

export const BASE = '/dashboard';

const listeners = new Set<() => void>();

export function navigate(to: string, o: { replace?: boolean } = {}): void {
  const url = to.startsWith('/') ? to : `${BASE}/${to}`;
  if (o.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
}

export interface Location {
  /** The path below /dashboard, without a trailing slash: '' for the overview, 'payments/pay_…'. */
  path: string;
  search: URLSearchParams;
}

function read(): Location {
  const raw = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return { path: raw.replace(/^\/+|\/+$/g, ''), search: new URLSearchParams(location.search) };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

export function Link(props: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' | undefined }) {
  const href = props.to.startsWith('/') ? props.to : `${BASE}/${props.to}`;
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} className={props.className} aria-current={props['aria-current']}>
      {props.children}
    </a>
  );
}
