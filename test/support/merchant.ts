import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Clock } from '../../src/clock.ts';

// A merchant's own charge endpoint, played by a real HTTP server on 127.0.0.1 for the http gateway
// tests. It verifies every request's Standard Webhooks signature and keeps a ledger keyed by the
// Idempotency-Key, as Stripe does: the first charge under a key is the only one; a later request
// for that key gets the recorded answer back and charges nothing.

export type MerchantAnswer =
  | { status: 'succeeded'; transaction_id: string }
  | { status: 'failed'; decline_code: string; message?: string; network_advice_code?: string };

export interface ChargeCall {
  /** Order of arrival, from 0. */
  seq: number;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** null when Webhook.verify accepted the request, else its error message. */
  signatureError: string | null;
  /** Whether this request found the key already in the ledger (answered from it, no new charge). */
  replayed: boolean;
}

/**
 * What to do with a request (the policy sees `call.replayed` when the key is already in the ledger):
 * - `{charge}`: charge unless the key was charged before, and answer the ledger's result for the
 *   key (the first charge's, whatever this decision proposed) unless `deliver` says it is lost;
 * - `{http}`: answer that status without charging (the merchant's own outage).
 * `deliver: {delayMs}` answers only after the delay (the caller has usually given up by then);
 * `deliver: {http}` records the charge but answers an error status (answer lost on the way back).
 */
export type Decision =
  | { charge: MerchantAnswer; deliver?: { delayMs: number } | { http: number } }
  | { http: number };

export type Policy = (call: ChargeCall) => Decision | Promise<Decision>;

/** Charges made for a payment (one per key at most, by construction of the ledger). */
export function chargesFor(m: Merchant, paymentId: string): { key: string; answer: MerchantAnswer }[] {
  const keys = new Set(m.calls.filter((c) => c.body?.payment === paymentId).map((c) => String(c.headers['idempotency-key'])));
  return [...keys].flatMap((key) => {
    const answer = m.ledger.get(key);
    return answer ? [{ key, answer }] : [];
  });
}

export interface Merchant {
  url: string;
  secret: string;
  calls: ChargeCall[];
  /** key → the charge recorded under it (at most one per key). */
  ledger: Map<string, MerchantAnswer>;
  setPolicy(policy: Policy): void;
  callsFor(key: string): ChargeCall[];
  close(): Promise<void>;
}

/**
 * `clock`: the merchant's own wall clock, for servers whose engine clock is shifted (the signature
 * timestamp is the engine's time, so a merchant on the real clock would refuse it as stale). The
 * signature is checked exactly as Webhook.verify does, with its 5-minute tolerance, against that clock.
 */
export async function startMerchant(policy: Policy, o: { clock?: Clock } = {}): Promise<Merchant> {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const verifier = new Webhook(secret);
  const verify = (raw: string, headers: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>) => {
    if (!o.clock) return verifier.verify(raw, headers);
    const ts = Number.parseInt(headers['webhook-timestamp'], 10);
    if (!Number.isFinite(ts) || Math.abs(o.clock.now().getTime() / 1000 - ts) > 5 * 60) throw new Error('Message timestamp outside the tolerance');
    const expected = verifier.sign(headers['webhook-id'], new Date(ts * 1000), raw);
    if (!headers['webhook-signature'].split(' ').includes(expected)) throw new Error('No matching signature found');
  };
  const calls: ChargeCall[] = [];
  const ledger = new Map<string, MerchantAnswer>();
  let current = policy;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let signatureError: string | null = null;
        try {
          verify(raw, {
            'webhook-id': String(req.headers['webhook-id'] ?? ''),
            'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
            'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
          });
        } catch (err) {
          signatureError = (err as Error).message;
        }
        let body: any = null;
        try {
          body = JSON.parse(raw);
        } catch {
          body = null;
        }
        const key = String(req.headers['idempotency-key'] ?? '');
        const known = ledger.get(key);
        const call: ChargeCall = { seq: calls.length, headers: req.headers, raw, body, signatureError, replayed: known !== undefined };
        calls.push(call);
        const send = (status: number, json: unknown) => {
          if (res.destroyed || res.writableEnded) return;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (signatureError || !key) return send(400, { error: signatureError ?? 'missing Idempotency-Key' });
        const decision = await current(call);
        if (!('charge' in decision)) return send(decision.http, { error: 'merchant outage' });
        // Charge at most once per key, even if two requests for the key race.
        const recorded = ledger.get(key) ?? decision.charge;
        ledger.set(key, recorded);
        const deliver = decision.deliver;
        if (deliver && 'http' in deliver) return send(deliver.http, { error: 'answer lost' });
        if (deliver && 'delayMs' in deliver) await new Promise((r) => setTimeout(r, deliver.delayMs));
        send(200, recorded);
      })().catch((err) => {
        if (!res.destroyed) {
          res.writeHead(500);
          res.end(String(err));
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/charge`,
    secret,
    calls,
    ledger,
    setPolicy(p) {
      current = p;
    },
    callsFor: (key) => calls.filter((c) => c.headers['idempotency-key'] === key),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
