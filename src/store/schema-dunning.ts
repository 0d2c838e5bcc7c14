import type { ColumnType, Selectable } from 'kysely';
import type { EmailKind } from '../domain/dunning.ts';
import type { Json, Seq } from './schema.ts';

// Row types of the dunning tables (migration 0009).

export type { EmailKind };

export type EmailStatus = 'queued' | 'sent' | 'failed';

export interface EmailsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_id: string;
  customer_id: string | null;
  kind: EmailKind;
  status: EmailStatus;
  to_address: string;
  facts: Json<unknown>;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  transport: 'outbox' | 'smtp' | null;
  message_id: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date | null;
  claimed_by: string | null;
  lease_expires_at: Date | null;
  handed_off_at: Date | null;
  error: string | null;
  test_clock: string | null;
  created_at: Date;
  sent_at: Date | null;
  updated_at: Date;
  seq: Seq;
}

export interface InstanceSecretsTable {
  name: string;
  value: string;
  created_at: Date;
}

export interface PaymentMethodUpdatesTable {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_id: string;
  payment_method: string;
  card_fingerprint: string;
  source: 'hosted_page' | 'api';
  outcome: 'retry_moved' | 'reopened' | 'saved';
  created_at: Date;
}

/** Pre-dunning checks (0019): a paid payment's card against the next expected payment. */
export interface CardExpiryChecksTable {
  account_id: string;
  payment_id: string;
  livemode: boolean;
  test_clock: string | null;
  send_at: Date | null;
  next_payment_at: Date | null;
  card_expires_at: Date | null;
  done_at: Date | null;
  outcome: 'queued' | 'card_replaced' | 'not_notified' | null;
  checked_at: Date;
}

export type EmailRow = Selectable<EmailsTable>;
