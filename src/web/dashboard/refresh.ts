import { useEffect } from 'react';

/** Calls `reload` every `everyMs` while the tab is visible, and as soon as the window regains focus. */
export function useRefresh(reload: () => void, everyMs = 30_000): void {
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, everyMs);
    const onFocus = () => reload();
    window.addEventListener('focus', onFocus);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('focus', onFocus);
    };
  }, [reload, everyMs]);
}
