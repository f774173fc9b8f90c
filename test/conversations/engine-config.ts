// Builds engine configuration for tests through the real schema, so defaults and duration parsing are
// the daemon's own.

import { type Config, configSchema } from '../../src/config/schema.js';
import type { EngineConfig } from '../../src/conversations/conversation.js';

export function fullConfig(doc: Record<string, unknown> = {}): Config {
  return configSchema.parse(doc);
}

export function engineConfig(doc: Record<string, unknown> = {}): EngineConfig {
  return fullConfig(doc);
}

/** Texts of the language fixtures in /work/shared/fixtures/whatsapp (lang_*.json), verbatim. */
export const FIXTURE_TEXTS = {
  lang_es_complaint_human:
    'Llevo una semana esperando mi pedido y nadie me contesta. ¡Esto es una vergüenza! Quiero hablar con una persona, no con un robot.',
  lang_pt_complaint_human:
    'Que absurdo! Meu pedido chegou quebrado e ninguém resolve. Quero falar com um atendente agora.',
  lang_de_complaint_human:
    'Das ist wirklich ärgerlich, meine Bestellung ist seit zwei Wochen überfällig. Ich möchte mit einem Mitarbeiter sprechen.',
  lang_es_neutral: 'Hola, ¿a qué hora abren mañana? Gracias.',
  lang_pt_neutral: 'Bom dia! Vocês fazem entrega em Campinas?',
  lang_de_neutral: 'Guten Tag, könnten Sie mir bitte die Öffnungszeiten schicken?',
  msg_text_plain: 'Hi, do you ship to Berlin?',
  /** batch_one_contact_three_messages.json, in timestamp order. */
  batch_three: ['oi', 'tem alguém aí?', 'preciso de ajuda com a minha entrega'],
} as const;

export const COMPLAINTS = [
  ['es', FIXTURE_TEXTS.lang_es_complaint_human],
  ['pt', FIXTURE_TEXTS.lang_pt_complaint_human],
  ['de', FIXTURE_TEXTS.lang_de_complaint_human],
] as const;

export const NEUTRALS = [
  ['es', FIXTURE_TEXTS.lang_es_neutral],
  ['pt', FIXTURE_TEXTS.lang_pt_neutral],
  ['de', FIXTURE_TEXTS.lang_de_neutral],
  ['en', FIXTURE_TEXTS.msg_text_plain],
] as const;
