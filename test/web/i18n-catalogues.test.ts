import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { LANGUAGES, languageOf, translator } from '../../src/web/i18n/translate.ts';

// The message catalogues customers read: every language has every message, each message parses as
// ICU MessageFormat, and uses exactly the values the English one does (a translation that drops
// `{amount}` or misspells it would silently print less).

type Ast = { type: number; value?: string; options?: Record<string, { value: Ast }> }[];

function argumentsOf(ast: Ast, into = new Set<string>()): Set<string> {
  for (const el of ast) {
    if (el.value !== undefined && el.type !== 0 && el.type !== 7) into.add(el.value);
    for (const option of Object.values(el.options ?? {})) argumentsOf(option.value, into);
  }
  return into;
}

describe('message catalogues', () => {
  const english = LANGUAGES.en;
  it('reads the values a message uses, inside plurals too', () => {
    expect([...argumentsOf(new IntlMessageFormat(english['payment_failed.body'], 'en').getAst() as Ast)].sort()).toEqual(['amount', 'merchant', 'reason']);
    expect([...argumentsOf(new IntlMessageFormat(english['page.open_payments'], 'en').getAst() as Ast)]).toEqual(['count']);
  });
  it.each(Object.keys(LANGUAGES).filter((l) => l !== 'en'))('%s has every message, with the same values as English', (lang) => {
    const catalogue = LANGUAGES[lang as keyof typeof LANGUAGES];
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(english).sort());
    for (const [key, text] of Object.entries(english)) {
      const mine = catalogue[key as keyof typeof english];
      const want = [...argumentsOf(new IntlMessageFormat(text, 'en').getAst() as Ast)].sort();
      const got = [...argumentsOf(new IntlMessageFormat(mine, lang).getAst() as Ast)].sort();
      expect(got, `${lang} ${key}`).toEqual(want);
      expect(mine, `${lang} ${key} is translated`).not.toBe('');
    }
  });

  it('picks the language by the primary subtag, English otherwise; plurals follow the language', () => {
    expect(languageOf('de-AT')).toBe('de');
    expect(languageOf('fr_CA')).toBe('fr');
    expect(languageOf('ja-JP')).toBe('en');
    expect(languageOf(null)).toBe('en');
    expect(translator('de-DE')('result.charged_summary', { paid: 1 })).toBe('1 Zahlung ist eingegangen.');
    expect(translator('de-DE')('result.charged_summary', { paid: 3 })).toBe('3 Zahlungen sind eingegangen.');
    expect(translator('fr-FR')('result.charged_summary', { paid: 0 })).toBe('Aucun paiement n’a encore abouti.');
    expect(translator('es')('page.open_payments', { count: 2 })).toBe('Estos 2 pagos están pendientes; una tarjeta nueva los paga todos al momento.');
    expect(translator(null)("payment_failed.subject", { merchant: 'Acme' })).toBe("Your payment to Acme didn't go through");
  });
});
