import type { ColumnType, Selectable } from 'kysely';
import type { Json } from './schema.ts';

// Row type of the customer-portal widget's settings (migration 0019).

export interface WidgetSettingsTable {
  account_id: string;
  livemode: boolean;
  key_id: string | null;
  secret: string | null;
  secret_created_at: Date | null;
  allowed_origins: ColumnType<unknown, string | undefined, string>;
  branding: ColumnType<unknown, string | undefined, string>;
  updated_at: Date;
}

export type WidgetSettingsRow = Selectable<WidgetSettingsTable>;
export type { Json };
