import { parseSimToken, simulatedProfile } from '../gateways/sandbox/population.ts';

// Who the demo business bills: a subscription business selling in US dollars to customers in North
// America, Europe and Asia. Each customer is a simulated card of the sandbox network (`pm_sim_…`,
// src/gateways/sandbox/population.ts): whether a renewal declines, with which code, and when a
// retry would work is the network's, not the demo's. A quarter of them live in the sandbox's
// `elsewhere` world (European and Asian pay calendars and issuers). Pure: no I/O.

export interface DemoCustomer {
  index: number;
  token: string;
  name: string;
  email: string;
  timezone: string;
  locale: string;
  /** Monthly price in cents. */
  amount: number;
  plan: string;
  /** Day of the month (1–28) the subscription renews on. */
  renewalDay: number;
}

const PLANS: readonly { plan: string; amount: number; weight: number }[] = [
  { plan: 'starter', amount: 900, weight: 0.45 },
  { plan: 'team', amount: 2900, weight: 0.35 },
  { plan: 'business', amount: 7900, weight: 0.15 },
  { plan: 'enterprise', amount: 19900, weight: 0.05 },
];

/** Zones and locales by the simulated card's UTC offset (the network's draw), several per offset. */
const PLACES: Readonly<Record<number, readonly (readonly [timezone: string, locale: string])[]>> = {
  [-300]: [['America/New_York', 'en-US'], ['America/Toronto', 'en-CA'], ['America/Detroit', 'en-US']],
  [-360]: [['America/Chicago', 'en-US'], ['America/Mexico_City', 'es-MX']],
  [-420]: [['America/Denver', 'en-US'], ['America/Phoenix', 'en-US']],
  [-480]: [['America/Los_Angeles', 'en-US'], ['America/Vancouver', 'en-CA']],
  0: [['Europe/London', 'en-GB'], ['Europe/Dublin', 'en-IE'], ['Europe/Lisbon', 'pt-PT']],
  60: [['Europe/Berlin', 'de-DE'], ['Europe/Paris', 'fr-FR'], ['Europe/Madrid', 'es-ES'], ['Europe/Amsterdam', 'nl-NL']],
  120: [['Europe/Helsinki', 'fi-FI'], ['Europe/Athens', 'el-GR']],
  330: [['Asia/Kolkata', 'en-IN'], ['Asia/Kolkata', 'hi-IN']],
  480: [['Asia/Singapore', 'en-SG'], ['Asia/Shanghai', 'zh-CN']],
  540: [['Asia/Tokyo', 'ja-JP'], ['Asia/Seoul', 'ko-KR']],
};

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Mia', 'Noah', 'Sofia', 'Lukas', 'Emma', 'Hiro', 'Priya', 'Chen', 'Lea', 'Mateo', 'Olivia', 'Yuki', 'Arjun', 'Camille', 'Jonas', 'Aoife'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Schmidt', 'García', 'Rossi', 'Tanaka', 'Sharma', 'Martin', 'Kim', 'Nguyen', 'Murphy', 'Silva', 'Dubois', 'Novak', 'Berg', 'Okafor', 'Wang', 'Jensen'];

/** The demo's customer number `index`; `runId` keeps the cards of two demos in one account apart. */
export function demoCustomer(index: number, runId: string): DemoCustomer {
  const world = index % 4 === 3 ? '.world-elsewhere' : '';
  const token = `pm_sim_demo${runId}-${index}${world}`;
  const profile = simulatedProfile(parseSimToken(token)!.seed);
  const draw = parseInt(profile.fingerprint.slice(0, 8), 16);
  const places = PLACES[profile.timezoneOffsetMinutes] ?? [['UTC', 'en-US'] as const];
  const [timezone, locale] = places[draw % places.length]!;
  const first = FIRST[index % FIRST.length]!;
  const last = LAST[Math.floor(index / FIRST.length) % LAST.length]!;
  const { plan, amount } = pick(PLANS, (draw >>> 8) / 0x1000000);
  return {
    index,
    token,
    name: `${first} ${last}`,
    email: `${first}.${last}.${index}@example.com`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, ''),
    timezone,
    locale,
    amount,
    plan,
    renewalDay: (index % 28) + 1,
  };
}

function pick<T extends { weight: number }>(items: readonly T[], u: number): T {
  let acc = 0;
  for (const item of items) {
    acc += item.weight;
    if (u < acc) return item;
  }
  return items[items.length - 1]!;
}
