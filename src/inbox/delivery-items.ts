// The parts of one delivery as read from its body, before any is applied: messages (and echoes),
// statuses, other webhook fields and identity updates, each with where it sat in the payload.
import type { z } from 'zod';
import type {
  InboundMessage,
  MessageCore,
  SenderContact,
  StatusObject,
  TemplateQualityValue,
  TemplateStatusValue,
  UserIdUpdate,
} from '../webhook/payload.js';

export interface PendingMessage {
  /** A customer's message (`messages`) or the business's own from the Business app (echo). */
  kind: 'message' | 'echo';
  pnid: string;
  msg: Partial<InboundMessage> & MessageCore & { id: string };
  raw: unknown;
  senders: SenderContact[];
  /** The change's value-level error, kept on a message that carries none of its own. */
  valueError?: { code: number; title?: string; message?: string };
  loc: string;
  order: number;
}

export interface PendingIdentityUpdate {
  update: UserIdUpdate;
  loc: string;
  at: number;
}

export interface PendingStatus {
  status: StatusObject;
  raw: unknown;
  order: number;
}

export interface PendingEvent {
  entryIndex: number;
  changeIndex: number;
  field: string;
  event: string | null;
  payload: unknown;
  template?: TemplateStatusValue;
  quality?: TemplateQualityValue;
  entryTime?: number;
}

/** Records a part that cannot be used (in webhook_errors) so the rest of the delivery goes on. */
export type AddError = (location: string, code: string, message: string) => void;

/** The first few zod issues as one line, naming each field. */
export function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
