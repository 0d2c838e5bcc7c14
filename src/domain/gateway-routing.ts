// Which of an account's gateways a payment method token is charged through ("directly against the
// gateway that issued the original token", Revtain seed). Pure: the account's gateways are passed in.
//
// Order: an explicit gateway name on the request; else the configured gateway whose token prefix is
// the longest match for the token; else the account's default gateway.

/** The account's default gateway, the one `/v2/settings/gateway` reads and writes. */
export const DEFAULT_GATEWAY = 'default';

/**
 * Token shapes by gateway type: a gateway of a type listed here that is configured without its own
 * `token_prefixes` claims these. Data, not code, so a new gateway type is one line:
 * - stripe: PaymentMethod `pm_`, Card `card_` and Source `src_` ids (Stripe API reference). The
 *   stripe gateway itself is not built yet; until it is, these prefixes route nowhere, and a
 *   `pm_…` token goes to the default gateway (the sandbox in test mode).
 * The sandbox and the merchant's own http gateway take any token, so they claim no shape by default.
 */
export const TOKEN_PREFIXES_BY_GATEWAY_TYPE: Readonly<Record<string, readonly string[]>> = {
  stripe: ['pm_', 'card_', 'src_'],
  sandbox: [],
  http: [],
};

export function defaultTokenPrefixes(type: string): string[] {
  return [...(TOKEN_PREFIXES_BY_GATEWAY_TYPE[type] ?? [])];
}

export interface GatewayRoute {
  name: string;
  tokenPrefixes: readonly string[];
}

export type RoutedBy = 'explicit' | 'token_prefix' | 'default';

export interface Routing {
  /** null: the account's default gateway. */
  gateway: string | null;
  by: RoutedBy;
}

/** `explicit` must already be known to be one of `gateways` (or DEFAULT_GATEWAY); the edge checks it. */
export function routeToken(token: string, explicit: string | null | undefined, gateways: readonly GatewayRoute[]): Routing {
  if (explicit) return { gateway: explicit === DEFAULT_GATEWAY ? null : explicit, by: 'explicit' };
  let best: { name: string; length: number } | null = null;
  for (const g of gateways) {
    for (const prefix of g.tokenPrefixes) {
      if (prefix.length > 0 && token.startsWith(prefix) && (best === null || prefix.length > best.length)) best = { name: g.name, length: prefix.length };
    }
  }
  return best ? { gateway: best.name, by: 'token_prefix' } : { gateway: null, by: 'default' };
}
