import Stripe from 'stripe';
import type { Db } from '../store/db.ts';
import { getStripeConnection, markNeedsReconnect, saveRefreshedTokens, type StripeConnection } from '../store/stripe.ts';
import { stripeClient, type StripeSettings } from './client.ts';
import type { Keyring } from './crypto.ts';

// Calls to Stripe on a connected account's behalf, with the key Rescue stored for it. Which key:
// - OAuth (Connect, Standard): the account's own access token as the API key — not the platform key
//   with a Stripe-Account header — so an observe connection's read_only token cannot charge at all.
//   When Stripe refuses that token (401), Rescue renews it once with the refresh token through the
//   SDK (`stripe.oauth.token({grant_type: 'refresh_token'})`, authenticated with the platform key),
//   stores the new pair encrypted, and repeats the call once. A refused refresh makes the connection
//   `needs_reconnect`: its tokens are forgotten and nothing is charged until the merchant reconnects.
// - A pasted restricted key: nothing to refresh; a refused key is `needs_reconnect` at once.
// A 401 means Stripe did not act on the request, so repeating a charge after a refresh (under the
// same idempotency key) cannot charge twice.

export interface ConnectedDeps {
  db: Db;
  ring: Keyring | null;
  stripe: StripeSettings;
}

/** The connection holds no working key: it needs the merchant to reconnect. No money moves. */
export class StripeReconnectNeeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StripeReconnectNeeded';
  }
}

const isAuthError = (err: unknown) => err instanceof Stripe.errors.StripeAuthenticationError;

/**
 * Runs `call` with the connection's current key (the callback builds its client from `c.secretKey`,
 * or takes the one given); on an authentication error, refreshes once and runs it once more.
 */
export async function withConnection<T>(d: ConnectedDeps, conn: StripeConnection, at: Date, call: (c: StripeConnection, stripe: Stripe) => Promise<T>): Promise<T> {
  if (conn.status !== 'connected' || !conn.secretKey) throw new StripeReconnectNeeded('Stripe is not connected');
  try {
    return await call(conn, stripeClient(d.stripe, conn.secretKey));
  } catch (err) {
    if (!isAuthError(err)) throw err;
    const key = await renewKey(d, conn, at, (err as Error).message);
    return call({ ...conn, secretKey: key }, stripeClient(d.stripe, key));
  }
}

/** A key Stripe refused: the renewed OAuth access token, or StripeReconnectNeeded. */
async function renewKey(d: ConnectedDeps, conn: StripeConnection, at: Date, refusal: string): Promise<string> {
  const scope = { accountId: conn.accountId, livemode: conn.livemode };
  const needsReconnect = async (reason: string): Promise<never> => {
    await markNeedsReconnect(d.db, scope, at, reason);
    throw new StripeReconnectNeeded(reason);
  };
  if (conn.kind !== 'oauth') return needsReconnect(`Stripe refused the pasted key: ${refusal}`);
  if (!d.ring) return needsReconnect('Stripe refused the access token and RESCUE_ENCRYPTION_KEY is not set to store a new one');
  // Another process may have renewed it meanwhile: use its token rather than renewing again.
  const current = await getStripeConnection(d.db, d.ring, scope);
  if (current?.status === 'connected' && current.secretKey && current.secretKey !== conn.secretKey) return current.secretKey;
  const refreshToken = current?.refreshToken ?? conn.refreshToken;
  if (!refreshToken) return needsReconnect(`Stripe refused the access token and there is no refresh token: ${refusal}`);
  if (!d.stripe.RESCUE_STRIPE_SECRET_KEY) return needsReconnect('Stripe refused the access token and RESCUE_STRIPE_SECRET_KEY is not set to refresh it');
  let token: Stripe.OAuthToken;
  try {
    token = await stripeClient(d.stripe, d.stripe.RESCUE_STRIPE_SECRET_KEY).oauth.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  } catch (err) {
    // A refusal (invalid_grant: revoked or unknown refresh token) is final; an outage is not — the
    // caller's usual "no answer" path asks again later.
    const refused = err instanceof Stripe.errors.StripeInvalidGrantError || (err instanceof Stripe.errors.StripeError && !(err instanceof Stripe.errors.StripeRateLimitError) && (err.statusCode ?? 500) < 500);
    if (refused) return needsReconnect(`Stripe refused to refresh the access token: ${err.message}`);
    throw err;
  }
  if (!token.access_token) return needsReconnect('Stripe answered the refresh without an access token');
  if (!(await saveRefreshedTokens(d.db, d.ring, scope, { accessToken: token.access_token, refreshToken: token.refresh_token ?? null, at }))) {
    throw new StripeReconnectNeeded('Stripe was disconnected while its token was being refreshed');
  }
  return token.access_token;
}
