import { IntlMessageFormat } from 'intl-messageformat';
import { de } from './de.ts';
import { en, type Catalogue, type MessageKey } from './en.ts';
import { es } from './es.ts';
import { fr } from './fr.ts';

// The words customers read (emails, the hosted page, the widget) in their language: the customer's
// `locale`, else the account's default (dunning settings `default_locale`), else English. The
// language picks the catalogue; the whole tag (de-AT, fr-CA) still formats amounts and dates.

export type { MessageKey };
export const LANGUAGES = { en, de, fr, es } as const satisfies Record<string, Catalogue>;
export type Language = keyof typeof LANGUAGES;

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** The catalogue language for a BCP 47 tag: its primary subtag when we have it, else English. */
export function languageOf(locale: string | null | undefined): Language {
  const primary = (locale ?? '').split(/[-_]/)[0]!.toLowerCase();
  return primary in LANGUAGES ? (primary as Language) : 'en';
}

/** The locale customers of an account are addressed in: their own, else the account's default. */
export const effectiveLocale = (customerLocale: string | null | undefined, accountDefault: string | null | undefined): string | null => customerLocale ?? accountDefault ?? null;

const compiled = new Map<string, IntlMessageFormat>();

export function translator(locale: string | null | undefined): Translate {
  const lang = languageOf(locale);
  return (key, values) => {
    const id = `${lang}|${key}`;
    let format = compiled.get(id);
    if (!format) {
      format = new IntlMessageFormat(LANGUAGES[lang][key], lang);
      compiled.set(id, format);
    }
    return String(format.format(values ?? {}));
  };
}
