import { describe, expect, it } from 'vitest';
import { ANSWER_LIMITS, answerText, answerTextProblem, cleanAnswerText, cleanChargeResult, isStorableText } from '../../src/gateways/answer-text.ts';
import { MAX_ANSWER_BYTES, readAnswerBody } from '../../src/gateways/http-gateway.ts';

// What a gateway answers is checked before it is stored: NUL and lone surrogates are refused by
// Postgres (text and jsonb), and lengths are bounded.

describe('gateway answer text', () => {
  it('tells storable text from NUL, lone surrogates and overlong values', () => {
    expect(isStorableText('insufficient_funds')).toBe(true);
    expect(isStorableText('Karte abgelehnt — 残高不足 😀')).toBe(true);
    expect(isStorableText('')).toBe(true);
    expect(isStorableText('txn_\u0000')).toBe(false);
    expect(isStorableText('\u0000')).toBe(false);
    expect(isStorableText('bad\ud800')).toBe(false);
    expect(isStorableText('\udc00bad')).toBe(false);
    expect(isStorableText('\ude00\ud83d')).toBe(false);

    expect(answerTextProblem('ok', 10)).toBeNull();
    expect(answerTextProblem('a\u0000b', 10)).toMatch(/NUL/);
    expect(answerTextProblem('a\ud800', 10)).toMatch(/surrogate/);
    expect(answerTextProblem('x'.repeat(11), 10)).toMatch(/longer than 10/);
    expect(answerTextProblem('x'.repeat(10), 10)).toBeNull();
  });

  it('the edge schema refuses what cannot be stored', () => {
    const code = answerText(ANSWER_LIMITS.code);
    expect(code.safeParse('do_not_honor').success).toBe(true);
    expect(code.safeParse('').success).toBe(false);
    expect(code.safeParse('do_not\u0000honor').success).toBe(false);
    expect(code.safeParse('do_not_honor\udfff').success).toBe(false);
    expect(code.safeParse('x'.repeat(ANSWER_LIMITS.code + 1)).success).toBe(false);
    expect(code.safeParse('x'.repeat(ANSWER_LIMITS.code)).success).toBe(true);
    expect(code.safeParse(42).success).toBe(false);
    const message = answerText(ANSWER_LIMITS.message, { min: 0 });
    expect(message.safeParse('').success).toBe(true);
    expect(message.safeParse('😀'.repeat(ANSWER_LIMITS.message / 2)).success).toBe(true);
  });

  it('makes text storable: NUL removed, lone surrogates replaced, cut without splitting a pair', () => {
    expect(cleanAnswerText('in\u0000sufficient', 100)).toBe('insufficient');
    expect(cleanAnswerText('a\ud800b', 100)).toBe('a\ufffdb');
    expect(cleanAnswerText('plain', 100)).toBe('plain');
    expect(cleanAnswerText('abcdef', 3)).toBe('abc');
    // '😀' is two UTF-16 units: a cut through it drops the whole character.
    const cut = cleanAnswerText('ab😀', 3);
    expect(cut).toBe('ab');
    expect(isStorableText(cut)).toBe(true);
    for (const s of ['\u0000\ud800\udc00\udbff', 'x\u0000'.repeat(600), '😀'.repeat(700)]) {
      const out = cleanAnswerText(s, ANSWER_LIMITS.message);
      expect(isStorableText(out)).toBe(true);
      expect(out.length).toBeLessThanOrEqual(ANSWER_LIMITS.message);
    }
  });

  it('cleans every string of a charge result', () => {
    expect(cleanChargeResult({ status: 'succeeded', transactionId: 'pi_\u00001' })).toEqual({ status: 'succeeded', transactionId: 'pi_1' });
    expect(cleanChargeResult({ status: 'failed', declineCode: '\u0000', message: 'm\ud800', adviceCode: '0\u00003' })).toEqual({ status: 'failed', declineCode: 'generic_decline', message: 'm\ufffd', adviceCode: '03' });
    expect(cleanChargeResult({ status: 'failed', declineCode: 'expired_card', message: '', adviceCode: null, updatedPaymentMethod: 'pm_\u0000new' })).toEqual({ status: 'failed', declineCode: 'expired_card', message: '', adviceCode: null, updatedPaymentMethod: 'pm_new' });
    expect(cleanChargeResult({ status: 'unknown', reason: 'Stripe: \u0000' })).toEqual({ status: 'unknown', reason: 'Stripe: ' });
  });
});

describe('reading a gateway answer with a byte cap', () => {
  /** A body of `total` bytes made lazily in 16 KiB chunks; `pulled()` is how many bytes were produced. */
  function lazyBody(total: number) {
    let produced = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= total) return controller.close();
        const n = Math.min(16 * 1024, total - produced);
        produced += n;
        controller.enqueue(new Uint8Array(n).fill(0x20));
      },
      cancel() {
        cancelled = true;
      },
    });
    return { stream, pulled: () => produced, cancelled: () => cancelled };
  }

  it('gives up on a 200 MB answer after the cap, without reading the rest', async () => {
    const body = lazyBody(200 * 1024 * 1024);
    const read = await readAnswerBody(new Response(body.stream), MAX_ANSWER_BYTES);
    expect(read).toEqual({ ok: false, problem: `was larger than ${MAX_ANSWER_BYTES} bytes` });
    expect(body.pulled()).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 64 * 1024);
    expect(body.cancelled()).toBe(true);
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const body = lazyBody(1024 * 1024);
    const read = await readAnswerBody(new Response(body.stream, { headers: { 'content-length': String(1024 * 1024) } }), MAX_ANSWER_BYTES);
    expect(read.ok).toBe(false);
    expect(body.pulled()).toBeLessThanOrEqual(32 * 1024);
  });

  it('reads an answer within the cap, and refuses one that is not UTF-8', async () => {
    const json = JSON.stringify({ status: 'failed', decline_code: 'insufficient_funds', message: 'Pas assez — 残高' });
    expect(await readAnswerBody(new Response(json), MAX_ANSWER_BYTES)).toEqual({ ok: true, text: json });
    expect(await readAnswerBody(new Response(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), MAX_ANSWER_BYTES)).toEqual({ ok: false, problem: 'was not UTF-8' });
    expect(await readAnswerBody(new Response(null), MAX_ANSWER_BYTES)).toEqual({ ok: true, text: '' });
  });
});
