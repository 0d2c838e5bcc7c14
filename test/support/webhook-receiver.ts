import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { systemClock, type Clock } from '../../src/clock.ts';

// A merchant's webhook receiver, played by a real HTTP server on 127.0.0.1. Each endpoint is a path
// on it; every request is recorded with its raw body, and checked on arrival with the
// standardwebhooks library's own verifier against the secrets the test registered for its path.

export interface Delivery {
  /** Order of arrival on this receiver, from 0. */
  seq: number;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** The registered secrets of the path that verified this request on arrival. */
  verifiedBy: string[];
  /** The status the receiver answered (null while held or if the client went away). */
  answered: number | null;
}

/** What a path answers: a status (with headers), possibly after holding the request open. */
export type Answer = number | { status: number; headers: Record<string, string> };
export type ReceiverPolicy = (d: Delivery) => Answer | Promise<Answer>;

export interface Receiver {
  url(path: string): string;
  /** Secrets a path's requests are verified with on arrival (replaces any earlier list). */
  secrets(path: string, secrets: string[]): void;
  on(path: string, policy: ReceiverPolicy): void;
  deliveries: Delivery[];
  at(path: string): Delivery[];
  close(): Promise<void>;
}

/** `new Webhook(secret).verify(raw, headers)`, as a receiver would call it; true when it accepts. */
export function verifies(d: Pick<Delivery, 'raw' | 'headers'>, secret: string): boolean {
  try {
    new Webhook(secret).verify(d.raw, {
      'webhook-id': String(d.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(d.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(d.headers['webhook-signature'] ?? ''),
    });
    return true;
  } catch {
    return false;
  }
}

export async function startReceiver(): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const secrets = new Map<string, string[]>();
  const policies = new Map<string, ReceiverPolicy>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      const d: Delivery = { seq: deliveries.length, path, headers: req.headers, raw, body, verifiedBy: [], answered: null };
      d.verifiedBy = (secrets.get(path) ?? []).filter((s) => verifies(d, s));
      deliveries.push(d);
      void (async () => {
        const answer = await (policies.get(path) ?? (() => 200))(d);
        const status = typeof answer === 'number' ? answer : answer.status;
        if (res.destroyed || res.writableEnded) return;
        d.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain', ...(typeof answer === 'number' ? {} : answer.headers) });
        res.end(status < 300 ? 'ok' : 'nope');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    secrets: (path, list) => void secrets.set(path, list),
    on: (path, policy) => void policies.set(path, policy),
    deliveries,
    at: (path) => deliveries.filter((d) => d.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The wall clock moved by hand: tests jump it forward (retry backoff, secret overlap) without sleeping. */
export interface ShiftedClock extends Clock {
  advance(ms: number): void;
}

export function shiftedClock(): ShiftedClock {
  let offset = 0;
  return {
    now: () => new Date(systemClock.now().getTime() + offset),
    advance(ms) {
      offset += ms;
    },
  };
}
