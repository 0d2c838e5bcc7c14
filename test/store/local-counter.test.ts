import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCounter } from '../../src/api/local-counter.ts';
import { readCounter } from '../../src/store/rate-limits.ts';
import { ENGINES } from '../support/databases.ts';
import { T0, openStoreDb, type StoreDb } from '../support/fixtures.ts';

// The per-key rate limit's counter (api/local-counter.ts): local far below the limit, written at
// least once a second, exact from half the limit on — across processes, each with its own counter.

const WINDOW = 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

describe.each(ENGINES)('per-key counter (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  it('counts every hit, writes far below the limit only now and then, and is exact near it', async () => {
    const c = new LocalCounter(s.db);
    const hits: number[] = [];
    for (let i = 0; i < 40; i++) hits.push((await c.hit('key:a', at(0), 100, WINDOW)).hits);
    expect(hits).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Only the window's first hit was written: the other 39 are this process's own.
    expect((await readCounter(s.db, 'key:a', at(0))).hits).toBe(1);
    // A second later the pending hits are written with the next one.
    expect((await c.hit('key:a', at(1_000), 100, WINDOW)).hits).toBe(41);
    expect((await readCounter(s.db, 'key:a', at(1_000))).hits).toBe(41);
    // From half the limit on, every hit is written.
    for (let i = 0; i < 15; i++) await c.hit('key:a', at(1_100), 100, WINDOW);
    const written = (await readCounter(s.db, 'key:a', at(1_100))).hits;
    expect(written).toBeGreaterThanOrEqual(50);
    for (let i = 0; i < 5; i++) await c.hit('key:a', at(1_200), 100, WINDOW);
    expect((await readCounter(s.db, 'key:a', at(1_200))).hits).toBe(61);
  });

  it('two processes share one count: the limit holds exactly across them', async () => {
    const one = new LocalCounter(s.db);
    const two = new LocalCounter(s.db);
    const max = 10;
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) answers.push((await (i % 2 ? two : one).hit('key:b', at(0), max, WINDOW)).hits);
    // Whichever process counts the 11th and 12th hit sees them over the limit.
    expect((await one.hit('key:b', at(0), max, WINDOW)).hits).toBeGreaterThanOrEqual(9);
    expect((await two.hit('key:b', at(0), max, WINDOW)).hits).toBe(10);
    expect((await one.hit('key:b', at(0), max, WINDOW)).hits).toBe(11);
    expect((await two.hit('key:b', at(0), max, WINDOW)).hits).toBe(12);
  });

  it('concurrent hits in one process are each counted once, and a new window starts from one', async () => {
    const c = new LocalCounter(s.db);
    await Promise.all(Array.from({ length: 30 }, () => c.hit('key:c', at(0), 20, WINDOW)));
    expect((await c.hit('key:c', at(0), 20, WINDOW)).hits).toBe(31);
    expect((await readCounter(s.db, 'key:c', at(0))).hits).toBe(31);
    expect((await c.hit('key:c', at(WINDOW + 1), 20, WINDOW)).hits).toBe(1);
  });
});
