import { parseArgs } from 'node:util';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { openDb } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { accountsWithRetries } from '../store/models.ts';
import { describeMixCalendar, type PaydayMix } from './payday-mix.ts';
import { trainRetryTiming } from './train.ts';

const describePaydayMix = (mix: PaydayMix) => mix.calendars.map((c) => `${describeMixCalendar(c.calendar)} ${Math.round(c.share * 100)}%`).join(', ');

/** `rescue train [--account acct_…] [--live]`: prints one line per account; returns the exit code. */
export async function runTrainCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { account: { type: 'string' }, live: { type: 'boolean', default: false } } });
  const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
  try {
    await migrate(db);
    const scopes = values.account ? [{ account_id: values.account, livemode: values.live }] : await accountsWithRetries(db);
    if (scopes.length === 0) console.log('No account has finished retries yet: nothing to train.');
    for (const s of scopes) {
      const out = await trainRetryTiming(db, { accountId: s.account_id, livemode: s.livemode, now: systemClock.now() });
      const who = `${s.account_id} (${s.livemode ? 'live' : 'test'})`;
      if (out.status === 'skipped') console.log(`${who}: skipped, ${out.reason}`);
      else console.log(`${who}: v${out.model.version} ${out.status === 'activated' ? 'activated' : 'kept as candidate (incumbent is better)'}; ` +
        `held-out AUC ${out.evaluation.auc.toFixed(3)} Brier ${out.evaluation.brier.toFixed(4)} ECE ${out.evaluation.calibrationError.toFixed(3)} ` +
        `vs incumbent Brier ${out.incumbent.brier.toFixed(4)}, ${out.examples} retries` +
        (out.paydayMix ? `; pay calendars v${out.paydayMix.version} activated (${describePaydayMix(out.paydayMix.params as PaydayMix)})` : ''));
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
