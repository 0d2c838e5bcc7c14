import { parseSimToken } from './population.ts';
import { resolveTestToken } from './test-tokens.ts';

// The sandbox approves a token it does not know (a merchant's real-looking pm_… in a test, say):
// refusing it would break seed 003's first example, approving it silently hides a typo. So a
// payment charged on the sandbox carries this note when the token was not a test token as written.

export function sandboxTokenNote(token: string): string | null {
  if (parseSimToken(token) !== null) return null;
  const match = resolveTestToken(token);
  if (match === null) {
    return `The sandbox card network does not know '${token}', so it approves every charge on it. Use a test token to choose the outcome, e.g. pm_card_chargeDeclinedInsufficientFunds, or pm_card_insufficientFunds_until_<unix seconds> for one that recovers (docs/client.md#the-sandbox-and-tokens-it-does-not-know).`;
  }
  if (match.untilMs !== undefined || match.def.token === token) return null;
  const outcome = match.def.declineCode === null ? 'every charge approves' : `every charge declines with ${match.def.declineCode}`;
  return `The sandbox card network reads '${token}' as its test card ${match.def.token}: ${outcome}.`;
}
