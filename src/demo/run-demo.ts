import type { Config } from '../config.ts';
import { systemClock } from '../clock.ts';
import { createPayments, type CreatePaymentInput } from '../engine/payments.ts';
import { randomString } from '../ids.ts';
import { startRescue, type Rescue } from '../server.ts';
import { insertCustomer } from '../store/customers.ts';
import type { Scope } from '../store/payments.ts';
import { demoAccount, type DemoAccount } from './demo-account.ts';
import { demoCustomer, type DemoCustomer } from './demo-customers.ts';
import { progressBar } from './progress-bar.ts';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';

// `rescue demo`: a quarter of a subscription business played through the real engine on a test
// clock. Customers are written by the store function POST /v2/customers uses, each day's renewals
// are created and charged together by the engine's createPayments (what POST /v2/payments does,
// batched, as a backtest does), and the days pass by advancing the test clock through the API, so
// the worker runs every retry, email and webhook exactly as it would for a merchant.

const DAY = 86_400_000;

export interface DemoOptions {
  customers: number;
  days: number;
  /** A test API key: fill its account instead of the embedded sandbox account. */
  key: string | undefined;
  out: NodeJS.WritableStream;
  progress: NodeJS.WritableStream;
}

export interface DemoResult {
  rescue: Rescue;
  key: string;
  payments: number;
  /** Resolves when the local webhook receiver is closed (after Rescue stops). */
  sink: WebhookSink | null;
}

export async function runDemo(config: Config, o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const rescue = await startRescue(config, { api: true, worker: true });
  const url = rescue.url!.replace(/\/$/, '');
  const account = await demoAccount(rescue.db, o.key, systemClock.now());
  const api = apiClient(url, account.key);
  const runId = randomString(6).toLowerCase().replace(/[^a-z0-9]/g, 'x');
  const scope: Scope = { accountId: account.accountId, livemode: false };

  const sink = await receiveWebhooks(api, o.out);
  const startMs = Math.floor(systemClock.now().getTime() / DAY) * DAY - o.days * DAY;
  const clock = await api('POST', '/v2/test_clocks', { frozen_time: startMs / 1000, name: `rescue demo ${runId}` });

  const people = Array.from({ length: o.customers }, (_, i) => demoCustomer(i, runId));
  const ids = await createCustomers(rescue, scope, people, clock.id as string, new Date(startMs));

  const bar = progressBar(o.days, o.progress);
  const deps = { db: rescue.db, clock: systemClock, gatewayFor: rescue.gatewayFor, leaseMs: config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000, workerId: `demo_${runId}` };
  let payments = 0;
  for (let d = 0; d < o.days; d++) {
    const dayMs = startMs + d * DAY;
    const dayOfMonth = new Date(dayMs).getUTCDate();
    const due = people.filter((p) => p.renewalDay === dayOfMonth);
    await createPayments(deps, scope, due.map((p) => renewal(p, ids[p.index]!, runId, dayMs)));
    payments += due.length;
    await api('POST', `/v2/test_clocks/${clock.id}/advance`, { frozen_time: (dayMs + DAY) / 1000 });
    await until(async () => (await api('GET', `/v2/test_clocks/${clock.id}`)).status === 'ready');
    bar.update(d + 1, `${new Date(dayMs + DAY).toISOString().slice(0, 10)} · ${payments.toLocaleString('en-US')} payments`);
  }
  bar.finish(`${o.days} days · ${payments.toLocaleString('en-US')} payments`);
  // The last deliveries and emails the final advance caused, then the summary.
  await until(async () => (await pendingWork(api, sink)) === 0, 60_000);
  await printSummary(o.out, { api, url, account, sink, startMs, days: o.days, payments, seconds: (performance.now() - started) / 1000 });
  return { rescue, key: account.key, payments, sink };
}

function renewal(p: DemoCustomer, customerId: string, runId: string, dayMs: number): CreatePaymentInput {
  // Auto Rescue on, as the seed's renewals ask; the budget and the schedule are the account's defaults.
  return {
    amount: p.amount,
    currency: 'USD',
    customer: customerId,
    payment_method: declinesThisMonth(p.index, dayMs) ? `${p.token}_declined` : p.token,
    off_session: true,
    auto_rescue: { enabled: true },
    metadata: { subscription_id: `sub_demo${runId}_${p.index}`, plan: p.plan, period: new Date(dayMs).toISOString().slice(0, 7) },
    idempotencyKey: null,
  };
}

/**
 * The network's own first-attempt failures are a few percent; a tenth of renewals more are handed
 * over already declining (`_declined`, the sandbox's backtest population), a subscription business's
 * usual 10–15% in all, so the quarter has rescues to show.
 */
function declinesThisMonth(index: number, dayMs: number): boolean {
  const month = Math.floor(dayMs / (30 * DAY));
  return ((index * 2654435761 + month * 40503) >>> 0) % 10 === 0;
}

async function createCustomers(rescue: Rescue, scope: Scope, people: readonly DemoCustomer[], clockId: string, createdAt: Date): Promise<string[]> {
  const ids: string[] = [];
  for (const p of people) {
    const row = await insertCustomer(rescue.db, scope, {
      email: p.email,
      name: p.name,
      timezone: p.timezone,
      locale: p.locale,
      metadata: { plan: p.plan },
      testClock: clockId,
      createdAt,
    });
    ids.push(row.id);
  }
  return ids;
}

/** A receiver on loopback for the rescue outcomes; none where the egress rules refuse loopback (HOST beyond loopback). */
const SINK_DESCRIPTION = 'rescue demo: a local receiver';

async function receiveWebhooks(api: Api, out: NodeJS.WritableStream): Promise<WebhookSink | null> {
  // An earlier demo's receiver went away with its process: its endpoint is disabled, not left to fail.
  const earlier = await api('GET', '/v2/webhook_endpoints?limit=100');
  for (const e of earlier.data as { id: string; description: string | null; status: string }[]) {
    if (e.description === SINK_DESCRIPTION && e.status === 'enabled') await api('POST', `/v2/webhook_endpoints/${e.id}`, { disabled: true });
  }
  const sink = await startWebhookSink();
  try {
    const endpoint = await api('POST', '/v2/webhook_endpoints', { url: sink.url, enabled_events: ['payment.rescue_succeeded', 'payment.rescue_failed'], description: SINK_DESCRIPTION });
    sink.useSecret(endpoint.secret as string);
    return sink;
  } catch (err) {
    out.write(`No local webhook receiver: ${err instanceof Error ? err.message : String(err)}\n`);
    await sink.close();
    return null;
  }
}

async function pendingWork(api: Api, sink: WebhookSink | null): Promise<number> {
  const emails = await api('GET', '/v2/emails?status=queued&limit=1');
  let pending = emails.data.length as number;
  if (sink) {
    const endpoints = await api('GET', '/v2/webhook_endpoints?limit=100');
    const mine = (endpoints.data as { id: string; url: string }[]).find((e) => e.url === sink.url);
    if (mine) pending += (await api('GET', `/v2/webhook_endpoints/${mine.id}/deliveries?status=pending&limit=1`)).data.length as number;
  }
  return pending;
}

interface SummaryInput {
  api: Api;
  url: string;
  account: DemoAccount;
  sink: WebhookSink | null;
  startMs: number;
  days: number;
  payments: number;
  seconds: number;
}

async function printSummary(out: NodeJS.WritableStream, s: SummaryInput): Promise<void> {
  const from = new Date(s.startMs).toISOString();
  const to = new Date(s.startMs + (s.days + 1) * DAY).toISOString();
  const dashboard = await s.api('GET', `/api/dashboard?from=${from}&to=${to}&interval=month`);
  const usd = (dashboard.lift.totals as { currency: string; recoveredRevenue: number; recoveredCount: number; failedCount: number; recoveryRate: number }[]).find((t) => t.currency === 'USD');
  const received = s.sink ? [...s.sink.received.values()].reduce((a, b) => a + b, 0) : 0;
  const dollars = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  out.write(`
Demo ready in ${s.seconds.toFixed(0)} s: ${s.days} days of a subscription business on a test clock.
  payments:          ${s.payments.toLocaleString('en-US')} renewals
  failed first time: ${(usd?.failedCount ?? 0).toLocaleString('en-US')}
  recovered:         ${(usd?.recoveredCount ?? 0).toLocaleString('en-US')} payments, ${dollars(usd?.recoveredRevenue ?? 0)} (recovery rate ${usd?.recoveryRate ?? 0}%)
  webhooks received: ${received.toLocaleString('en-US')} by the local receiver${s.sink ? ` (${s.sink.url})` : ''}

Where to look:
  dashboard:  ${s.url}/dashboard/  (${s.account.email}${s.account.password ? `, password ${s.account.password}` : ', the password printed at first start'})
  emails:     ${s.url}/dashboard/emails, or GET /v2/emails
  API:        curl "${s.url}/v2/payments?status=succeeded" -H "x-api-key: Bearer ${s.account.key}"
  test key:   ${s.account.key}
`);
}

type Api = (method: string, path: string, body?: unknown) => Promise<any>;

function apiClient(url: string, key: string): Api {
  return async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${json?.error?.message ?? ''}`);
    return json;
  };
}

/** Polls a condition the worker brings about (a clock settling, a queue draining); gives up after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`the worker did not finish within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
