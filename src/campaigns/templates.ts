// Message templates as the API shows them (SPEC §14): one mapping from a cached row; and the approved
// ones a person may send, with the parameters each needs (template-parameters.ts).
import { z } from 'zod';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import type { TemplateMessage } from '../outbound/transports/transport.js';
import type { Db } from '../store/db.js';
import { type TemplateRow, templatesRepo } from '../store/templates-repo.js';
import { fillTemplate, type TemplateShape, templateShape } from './template-parameters.js';

export const templateSchema = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string().nullable(),
  status: z.string().describe('APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ... as Meta says'),
  quality: z.string().nullable().describe('GREEN, YELLOW, RED or UNKNOWN; null when Meta has not said'),
  reason: z.string().nullable().describe('why Meta rejected or paused it, when it said'),
  template_id: z.string().nullable(),
  updated_at: z.string().nullable(),
});

export type TemplateView = z.infer<typeof templateSchema>;

export function toTemplate(row: TemplateRow): TemplateView {
  return {
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    quality: row.quality ?? null,
    reason: row.reason,
    template_id: row.template_id,
    updated_at: row.updated_at > 0 ? toIso(row.updated_at) : null,
  };
}

export async function listTemplates(
  db: Db,
  limit: number,
  after?: { name: string; language: string },
): Promise<TemplateView[]> {
  return (await templatesRepo.page(db, limit, after)).map(toTemplate);
}

export interface SendableTemplate {
  name: string;
  language: string;
  category: string | null;
  /** Its text and parameters; null when the template sync has not read its components. */
  shape: TemplateShape | null;
}

/** Approved templates, (name, language) order: what a person can pick to send. */
export async function sendableTemplates(db: Db, limit = 500): Promise<SendableTemplate[]> {
  return (await templatesRepo.listInStatus(db, 'APPROVED', limit)).map((r) => ({
    name: r.name,
    language: r.language,
    category: r.category,
    shape: templateShape(r.components),
  }));
}

/**
 * The template message for a person's reply: the template must be cached and approved, and every
 * parameter it needs filled (`values` by parameterField). Refusals name the template or the field.
 */
export async function templateReply(
  db: Db,
  name: string,
  language: string,
  values: Record<string, unknown>,
): Promise<TemplateMessage> {
  const row = await templatesRepo.get(db, name, language);
  const label = `Template “${name}” (${language})`;
  if (!row) throw new AppError('validation_failed', `${label} is not known: sync the templates first.`);
  if (row.status !== 'APPROVED') {
    throw new AppError('validation_failed', `${label} is ${row.status}, not approved.`);
  }
  const shape = templateShape(row.components);
  if (shape?.unsupported)
    throw new AppError('validation_failed', `${label} cannot be sent here: ${shape.unsupported}.`);
  const components = fillTemplate(shape, values);
  return { name, language, ...(components ? { components } : {}) };
}
