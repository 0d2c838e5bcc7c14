// The dashboard's only way to the server: same-origin JSON calls carrying the session cookie, the
// dashboard header (Rescue's CSRF defence, src/api/dashboard-cookie.ts) and the chosen mode.
// The bundle holds no key or secret: the HttpOnly cookie is invisible to this code.

export type Mode = 'test' | 'live';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;
  constructor(status: number, message: string, code: string | null, param: string | null) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

let mode: Mode = readMode();
let onSignedOut: () => void = () => {};

function readMode(): Mode {
  try {
    return localStorage.getItem('rescue.mode') === 'live' ? 'live' : 'test';
  } catch {
    return 'test';
  }
}

export const currentMode = (): Mode => mode;

export function setMode(next: Mode): void {
  mode = next;
  try {
    localStorage.setItem('rescue.mode', next);
  } catch {
    // private browsing: the mode lasts for this page only
  }
}

/** Called when the server says the session is gone (expired, signed out elsewhere). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      'x-rescue-dashboard': '1',
      'x-rescue-mode': mode,
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = (json as { error?: { message?: string; code?: string; param?: string } } | null)?.error;
    const err = new ApiError(res.status, e?.message ?? `The server answered ${res.status}.`, e?.code ?? null, e?.param ?? null);
    if (res.status === 401 && err.code === 'session_invalid') onSignedOut();
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
