import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

// A real SMTP server for the tests (smtp-server), receiving what Rescue's nodemailer sends, parsed
// with mailparser so a test reads each message as a customer's mail client would.

export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string | null;
  replyTo: string | null;
  headers: Map<string, unknown>;
}

export interface EmailReceiver {
  url: string;
  received: ReceivedEmail[];
  /** Answer the next N messages with this SMTP error instead of accepting them. */
  failNext(count: number, code: number, message: string): void;
  /** Hold accepted messages' answers until `release` is called (to kill a sender mid-send). */
  hold(): { release: () => void; arrived: Promise<void> };
  close(): Promise<void>;
}

export async function startEmailReceiver(): Promise<EmailReceiver> {
  const received: ReceivedEmail[] = [];
  let failures: { count: number; code: number; message: string } | null = null;
  let holding: { release: () => void; wait: Promise<void>; arrived: () => void } | null = null;
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (failures && failures.count > 0) {
          failures.count--;
          const err = Object.assign(new Error(failures.message), { responseCode: failures.code });
          return callback(err);
        }
        const mail: ParsedMail = await simpleParser(Buffer.concat(chunks));
        const to = Array.isArray(mail.to) ? mail.to.flatMap((a) => a.value) : (mail.to?.value ?? []);
        received.push({
          from: mail.from?.text ?? '',
          to: to.map((a) => a.address ?? ''),
          subject: mail.subject ?? '',
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
          messageId: mail.messageId ?? null,
          replyTo: mail.replyTo?.text ?? null,
          headers: mail.headers,
        });
        if (holding) {
          holding.arrived();
          await holding.wait;
        }
        callback();
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    failNext(count, code, message) {
      failures = { count, code, message };
    },
    hold() {
      let release!: () => void;
      let arrived!: () => void;
      const wait = new Promise<void>((r) => (release = r));
      const arrivedP = new Promise<void>((r) => (arrived = r));
      holding = { release, wait, arrived };
      return {
        release: () => {
          holding = null;
          release();
        },
        arrived: arrivedP,
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
