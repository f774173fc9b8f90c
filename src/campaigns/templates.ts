// Message templates as the API shows them (SPEC §14): one mapping from a cached row.
import { z } from 'zod';
import { toIso } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { type TemplateRow, templatesRepo } from '../store/templates-repo.js';

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
