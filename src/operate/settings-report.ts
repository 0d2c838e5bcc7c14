import { SETTING_NAMES, type Config } from '../config.ts';

// `rescue config`: the settings a process would run with — each value, and whether it came from
// the environment or is the default — with secrets masked, so the output can be pasted into an
// issue or a chat.

/** Whole values that are secrets: only their key id (or first characters) is shown. */
const SECRET_VALUES = new Set(['RESCUE_ENCRYPTION_KEY', 'RESCUE_ENCRYPTION_OLD_KEYS', 'RESCUE_STRIPE_SECRET_KEY', 'RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET']);
/** URLs that may carry a password. */
const URL_VALUES = new Set(['DATABASE_URL', 'RESCUE_SMTP_URL']);

export interface SettingLine {
  name: string;
  value: string;
  source: 'environment' | 'default' | 'unset';
}

export function settingsReport(config: Config, env: NodeJS.ProcessEnv): SettingLine[] {
  return SETTING_NAMES.map((name) => {
    const raw = (config as Record<string, unknown>)[name];
    const source = env[name] !== undefined ? 'environment' : raw === undefined ? 'unset' : 'default';
    return { name, value: raw === undefined ? '' : mask(name, String(raw)), source };
  });
}

export function mask(name: string, value: string): string {
  if (URL_VALUES.has(name)) return maskUrlPassword(value);
  if (!SECRET_VALUES.has(name)) return value;
  // KEYID:BASE64 keys show their ids (which key is in use is what an operator checks); others a prefix.
  if (name.startsWith('RESCUE_ENCRYPTION')) return value.split(',').map((k) => `${k.split(':')[0]}:****`).join(',');
  return `${value.slice(0, Math.min(8, Math.floor(value.length / 3)))}****`;
}

function maskUrlPassword(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '****';
  }
}

export function formatReport(lines: readonly SettingLine[]): string {
  const width = Math.max(...lines.map((l) => l.name.length));
  return lines.map((l) => `${l.name.padEnd(width)}  ${l.source === 'unset' ? '(unset)' : l.value}${l.source === 'default' ? '  (default)' : ''}`).join('\n') + '\n';
}
