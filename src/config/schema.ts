// The one schema for the configuration document. Built-in defaults live here; config/default.json,
// the CONFIG_PATH file, environment variables and `PUT .../management/config` all feed this same shape.
// Durations are written as strings ("4h") and come out of parsing as milliseconds.
// Over 300 lines on purpose: STYLE.md's one zod schema for the whole document, so every key, default
// and bound is found in one file (each feature keeps its own block).
import { z } from 'zod';
import { parseDuration } from '../lib/duration.js';
import { checkOperatorPattern, MAX_TOTAL_PATTERN_PROGRAM } from './operator-regex.js';

export const CURRENT_SCHEMA_VERSION = 1;

const MB = 1024 * 1024;
const mediaCap = 100 * MB;

/** SPEC §9a: no duration in config is longer than a year, so `now + duration` never leaves the dates. */
export const MAX_DURATION_MS = 365 * 86_400_000;

export const duration = z
  .string()
  .max(32)
  .refine((s) => (parseDuration(s) ?? 0) >= 1000, {
    message: 'must be a duration of at least 1s, like "30s", "15m", "4h" or "2d"',
  })
  .refine((s) => (parseDuration(s) ?? 0) <= MAX_DURATION_MS, { message: 'must be at most 365d' })
  .transform((s) => parseDuration(s) as number);

/**
 * An http(s) URL without credentials (SPEC §9a): a user name or password inside a URL would be shown
 * wherever the URL is (the config API to standard tokens, logs). The message never repeats the value.
 */
export const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an http(s) URL', abort: true },
  )
  .refine(
    (s) => {
      const u = new URL(s);
      return u.username === '' && u.password === '';
    },
    {
      message:
        'must not contain a user name or password; put credentials in their own setting (e.g. api_key)',
    },
  );

export const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (24h)');

export const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' },
);

/** A secret string: at least 8 characters; never printed (see config/redact.ts). */
export const secret = z.string().min(8, 'must be at least 8 characters');

export const route = z.enum(['ai', 'hybrid', 'human']);
export const priority = z.enum(['low', 'normal', 'high']);
export const automationMode = z.enum(['assisted', 'autonomous', 'priority']);
export const accessTier = z.enum(['standard', 'root']);

const pattern = z
  .string()
  .min(1)
  .max(500)
  .superRefine((src, ctx) => {
    const { problem } = checkOperatorPattern(src);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const templateRef = z.strictObject({
  name: z.string().min(1).max(512),
  language: z.string().min(2).max(15),
  components: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** The pricing categories Meta reports on statuses (lower case, as in `pricing.category`). */
export const PRICING_CATEGORIES = [
  'marketing',
  'marketing_lite',
  'utility',
  'authentication',
  'authentication_international',
  'service',
  'referral_conversion',
] as const;

export const messageTypes = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
] as const;

export const conversationClass = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "_" or "-" (max 63)'),
  match: z
    .strictObject({
      keywords: z.array(z.string().min(1).max(100)).max(200).optional(),
      patterns: z.array(pattern).max(50).optional(),
      message_types: z.array(z.string().min(1).max(40)).max(20).optional(),
      referral_source: z.array(z.string().min(1).max(40)).max(20).optional(),
      // The id of a reply button or list row the customer chose (SPEC §12).
      reply_ids: z.array(z.string().min(1).max(256)).max(100).optional(),
      // all: every listed kind of criterion must hold (the meaning before `mode` existed, so the
      // default); any: one of them is enough ("an order keyword or an order number").
      mode: z.enum(['all', 'any']).default('all'),
    })
    .prefault({}),
  route: route.optional(),
  priority: priority.default('normal'),
  follow_up_rule: z.string().min(1).max(100).optional(),
});

export const followUpRule = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be letters, digits, "_" or "-"'),
    after: duration,
    text: z.string().min(1).max(4096).optional(),
    template: templateRef.optional(),
    max_per_conversation: z.number().int().min(1).max(100).default(1),
    classes: z.array(z.string().min(1)).optional(),
  })
  .refine((r) => r.text !== undefined || r.template !== undefined, {
    message: 'needs "text" (inside the window), "template" (outside it), or both',
  });

export const responderRule = z
  .strictObject({
    id: z.string().min(1).max(100).optional(),
    keywords: z.array(z.string().min(1).max(100)).optional(),
    classes: z.array(z.string().min(1)).optional(),
    // The id of a reply button or list row the customer chose (SPEC §12).
    reply_ids: z.array(z.string().min(1).max(256)).max(100).optional(),
    reply: z.string().min(1).max(4096),
    // Answer with reply buttons (Meta: 1–3, title ≤ 20, unique; the reply text is their body, ≤ 1024).
    buttons: z
      .array(z.strictObject({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }))
      .min(1)
      .max(3)
      .optional(),
  })
  .refine(
    (r) => (r.keywords?.length ?? 0) > 0 || (r.classes?.length ?? 0) > 0 || (r.reply_ids?.length ?? 0) > 0,
    { message: 'needs "keywords", "classes" or "reply_ids" to say when it applies' },
  )
  .refine((r) => r.buttons === undefined || r.reply.length <= 1024, {
    message: 'a reply with buttons is their body: at most 1024 characters',
    path: ['reply'],
  })
  .refine(
    (r) =>
      r.buttons === undefined ||
      (new Set(r.buttons.map((b) => b.id)).size === r.buttons.length &&
        new Set(r.buttons.map((b) => b.title)).size === r.buttons.length),
    { message: 'button ids and titles must be unique', path: ['buttons'] },
  );

const wordsByLanguage = z.record(z.string().min(1).max(15), z.array(z.string().min(1).max(50)).max(50));

export const configSchema = z.strictObject({
  schema_version: z.literal(CURRENT_SCHEMA_VERSION).default(CURRENT_SCHEMA_VERSION),
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      // This daemon's name among several on one database (SPEC §10): the owner of its leases and the
      // instance_id of its metrics. Unset: the id stored in the SQLite file, or a fresh one per start.
      instance_id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'letters, digits, _ . @ - (at most 64)')
        .optional(),
      api_body_limit_bytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
      // Meta's own maximum is 3 MB; a smaller limit would answer 413 to a genuine batch.
      webhook_body_limit_bytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(64 * 1024 * 1024)
        .default(3 * 1024 * 1024),
      shutdown_timeout: duration.prefault('10s'),
      // SPEC §9a: slow clients. A body must arrive whole within body_timeout and, after body_rate_grace,
      // at body_min_bytes_per_second on average; at most max_receiving_bodies are read at once (apart
      // from the requests being processed, load.*_max_in_flight); headers and idle keep-alive time out.
      body_timeout: duration.prefault('30s'),
      body_rate_grace: duration.prefault('2s'),
      body_min_bytes_per_second: z
        .number()
        .int()
        .min(1)
        .max(100 * 1024 * 1024)
        .default(1024),
      max_receiving_bodies: z.number().int().min(1).max(100_000).default(512),
      headers_timeout: duration.prefault('10s'),
      keep_alive_timeout: duration.prefault('5s'),
    })
    .prefault({}),
  database: z
    .strictObject({
      path: z.string().min(1).default('./data/native-whatsapp.db'),
      // PostgreSQL instead of the SQLite file (SPEC §10); secret: it may carry a password.
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
        .optional(),
      busy_timeout: duration.prefault('5s'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
  channels: z
    .strictObject({
      app_secret: secret.optional(),
      verify_token: secret.optional(),
      access_token: secret.optional(),
      phone_number_id: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the numeric phone number id from Meta (or "sandbox")')
        .default('sandbox'),
      api_base_url: httpUrl.default('https://graph.facebook.com'),
      api_version: z
        .string()
        .regex(/^v\d+\.\d+$/, 'must look like "v24.0"')
        .default('v24.0'),
      request_timeout: duration.prefault('10s'),
      // SPEC §14: the WhatsApp Business Account whose templates are synced (needs access_token).
      waba_id: z
        .string()
        .regex(/^\d{1,64}$/, 'must be the numeric WhatsApp Business Account id from Meta')
        .optional(),
      // Meta's messaging limit (unique customers per 24 h for business-initiated messages); null =
      // read it from the phone number when an access token is set, else do not check.
      messaging_limit: z.number().int().min(1).nullable().default(null),
    })
    .prefault({}),
  runtime: z
    .strictObject({
      status: z.enum(['active', 'paused']).default('active'),
      automation_mode: automationMode.default('assisted'),
      access_tier: accessTier.default('standard'),
    })
    .prefault({}),
  conversation_classes: z
    .array(conversationClass)
    .max(100)
    .default([])
    .superRefine((classes, ctx) => {
      // Each pattern is bounded alone; the sum bounds what one message can cost to classify.
      let total = 0;
      for (const c of classes) for (const p of c.match.patterns ?? []) total += checkOperatorPattern(p).size;
      if (total > MAX_TOTAL_PATTERN_PROGRAM) {
        ctx.addIssue({
          code: 'custom',
          message: `patterns of all classes together compile to ${total} instructions, at most ${MAX_TOTAL_PATTERN_PROGRAM}`,
        });
      }
    }),
  scorer: z
    .strictObject({
      languages: z.array(z.string().min(2).max(15)).min(1).default(['en', 'es', 'pt', 'de']),
    })
    .prefault({}),
  escalation: z
    .strictObject({
      keywords: wordsByLanguage.default({
        en: ['agent', 'human', 'person', 'someone real', 'manager', 'complaint', 'refund', 'lawyer'],
        es: ['agente', 'humano', 'persona', 'queja', 'reembolso', 'reclamación'],
        pt: ['atendente', 'humano', 'pessoa', 'reclamação', 'reembolso'],
        de: ['mitarbeiter', 'mensch', 'beschwerde', 'erstattung', 'rückerstattung'],
      }),
      sentiment_threshold: z.number().min(-1).max(1).nullable().default(-0.5),
      unanswered_messages: z.number().int().min(2).max(100).nullable().default(3),
      sla: duration.nullable().prefault('15m'),
      on_permanent_failure: z.boolean().default(true),
    })
    .prefault({}),
  follow_up_rules: z.array(followUpRule).max(50).default([]),
  quiet_hours: z
    .strictObject({
      start: timeOfDay,
      end: timeOfDay,
      timezone: timeZone,
    })
    .nullable()
    .default(null),
  responder: z
    .strictObject({
      kind: z.enum(['rules', 'openai-compatible']).default('rules'),
      rules: z.array(responderRule).max(200).default([]),
      openai: z
        .strictObject({
          base_url: httpUrl.optional(),
          model: z.string().min(1).max(200).optional(),
          api_key: secret.optional(),
          timeout: duration.prefault('8s'),
          max_context_messages: z.number().int().min(1).max(50).default(12),
          max_prompt_chars: z.number().int().min(500).max(100_000).default(8000),
          system_prompt: z
            .string()
            .max(4000)
            .default(
              'You are a helpful customer service assistant on WhatsApp. Answer briefly and politely.',
            ),
        })
        .prefault({}),
    })
    .prefault({}),
  opt_out: z
    .strictObject({
      keywords: wordsByLanguage.default({ default: ['STOP', 'UNSUBSCRIBE'] }),
      opt_in_keywords: wordsByLanguage.default({ default: ['START'] }),
    })
    .prefault({}),
  conversations: z
    .strictObject({
      reopen_within: duration.prefault('24h'),
      close_after: duration.prefault('72h'),
    })
    .prefault({}),
  outbound: z
    .strictObject({
      rate_per_second: z.number().min(0.1).max(1000).default(20),
      concurrency: z.number().int().min(1).max(64).default(4),
      per_recipient_interval: duration.prefault('1s'),
      retry_base_delay: duration.prefault('2s'),
      retry_max_delay: duration.prefault('15m'),
      max_attempts: z.number().int().min(1).max(50).default(8),
      // Mark the customer's last message read, with a typing indicator, before answering (SPEC §12).
      mark_read: z.boolean().default(true),
    })
    .prefault({}),
  // Media (SPEC §12): inbound downloads, storage and uploads.
  media: z
    .strictObject({
      dir: z.string().min(1).default('./data/media'),
      download: z.boolean().default(true),
      // Meta's own limits per type (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
      max_bytes: z
        .strictObject({
          image: z
            .number()
            .int()
            .min(1)
            .max(mediaCap)
            .default(5 * MB),
          audio: z
            .number()
            .int()
            .min(1)
            .max(mediaCap)
            .default(16 * MB),
          video: z
            .number()
            .int()
            .min(1)
            .max(mediaCap)
            .default(16 * MB),
          document: z
            .number()
            .int()
            .min(1)
            .max(mediaCap)
            .default(100 * MB),
          sticker: z
            .number()
            .int()
            .min(1)
            .max(mediaCap)
            .default(500 * 1024),
        })
        .prefault({}),
      max_total_bytes: z
        .number()
        .int()
        .min(MB)
        .default(10 * 1024 * MB),
      retention: duration.prefault('90d'),
      // A body for POST .../runtime/media is read whole before it is passed on: this bounds it.
      upload_max_bytes: z
        .number()
        .int()
        .min(1024)
        .max(mediaCap)
        .default(16 * MB),
      download_timeout: duration.prefault('60s'),
      concurrency: z.number().int().min(1).max(32).default(4),
      max_attempts: z.number().int().min(1).max(50).default(6),
      retry_base_delay: duration.prefault('5s'),
      lease: duration.prefault('2m'),
    })
    .prefault({}),
  scheduler: z
    .strictObject({
      tick_every: duration.prefault('10s'),
      batch_size: z.number().int().min(1).max(10_000).default(500),
      lease: duration.prefault('2m'),
      // SPEC §14: how often the template cache is synced from the Graph API (also on start).
      template_sync_every: duration.prefault('1h'),
    })
    .prefault({}),
  inbox: z
    .strictObject({
      max_attempts: z.number().int().min(1).max(50).default(6),
      retry_base_delay: duration.prefault('1s'),
      backlog_threshold: z.number().int().min(1).default(5000),
      batch_size: z.number().int().min(1).max(5000).default(200),
    })
    .prefault({}),
  // Load shedding (SPEC §9): past these bounds a request is answered at once with 429 (API) or 503
  // (webhook) and Retry-After instead of waiting in an unbounded queue. Meta retries a shed delivery.
  load: z
    .strictObject({
      webhook_max_in_flight: z.number().int().min(1).max(1_000_000).default(256),
      api_max_in_flight: z.number().int().min(1).max(1_000_000).default(128),
      // A saturated event loop queues requests before any middleware sees them: with a value, new
      // requests are shed while the loop has run this late for half a second, so it catches up.
      // Off by default: on a shared or busy box a slow loop is not always overload.
      max_event_loop_delay_ms: z.number().int().min(10).max(60_000).nullable().default(null),
      // Webhooks are shed while more than inbox.backlog_threshold × this many rows wait to be processed
      // (100,000 by default). A waiting row is on disk, not in memory, and is applied seconds after a
      // burst ends, while a shed delivery waits for Meta's next retry: a burst is better stored.
      backlog_shed_factor: z.number().min(1).max(1000).default(20),
      retry_after: duration.prefault('1s'),
    })
    .prefault({}),
  retention: z
    .strictObject({
      raw_webhooks: duration.prefault('30d'),
      // Status events for a wamid no stored message has. Meta retries a webhook for up to 7 days and our
      // own sends are recorded seconds after the API accepts them, so one still unmatched after a week
      // never will be (a send from another app on the number); 30 days leaves the operator time to look.
      unmatched_statuses: duration.prefault('30d'),
    })
    .prefault({}),
  campaigns: z
    .strictObject({
      attribution_window: duration.prefault('72h'),
      max_recipients: z.number().int().min(1).max(100_000).default(100_000),
      // Meta's per-business messaging limit (unique customers per 24 h) for business-initiated
      // conversations; null = unknown, do not check.
      messaging_limit: z.number().int().min(1).nullable().default(null),
      // A campaign's own send rate when it names none; standard tokens may not go above it (SPEC §7).
      // Below the channel's default 20/s so that replies keep room on the channel.
      rate_per_second: z.number().min(0.1).max(1000).default(10),
      // The create request carries the whole list (100k recipients ≈ 3–6 MB of JSON).
      create_body_limit_bytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(256 * 1024 * 1024)
        .default(32 * 1024 * 1024),
      // SPEC §14 auto-pause: permanent failures in a row, and the share of failures over the last
      // 100 sends (checked once 20 were made) above which a running campaign pauses itself.
      pause_after_errors: z.number().int().min(1).max(100).default(20),
      pause_error_rate: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
  // SPEC §14: a rate card turning Meta's per-message pricing into cost. `rates` maps a pricing
  // category to prices per message by country calling code ("55", "1", "*" for any other).
  pricing: z
    .strictObject({
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as "USD"')
        .default('USD'),
      rates: z
        .partialRecord(
          z.enum(PRICING_CATEGORIES),
          z.record(
            z.string().regex(/^(\d{1,4}|\*)$/, 'must be a country calling code (1 to 4 digits) or "*"'),
            z.number().min(0, 'must not be negative').max(1000),
          ),
        )
        .nullable()
        .default(null),
    })
    .prefault({}),
  templates: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(512),
        language: z.string().min(2).max(15),
        category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).default('UTILITY'),
      }),
    )
    .max(500)
    .default([]),
  analytics: z
    .strictObject({
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  // Events out (SPEC §11): how long the domain event log is kept (replay, stream resume), and how
  // subscriptions are delivered to.
  events: z
    .strictObject({
      retention: duration.prefault('7d'),
      // Open live streams (GET .../runtime/events) at once; past it new ones get 503.
      max_streams: z.number().int().min(1).max(1000).default(32),
      heartbeat: duration.prefault('15s'),
      delivery: z
        .strictObject({
          // Retries back off with jitter from backoff_min to backoff_max, for retry_for; then `dead`.
          backoff_min: duration.prefault('5s'),
          backoff_max: duration.prefault('1h'),
          retry_for: duration.prefault('24h'),
          timeout: duration.prefault('10s'),
          // A subscription failing (no success) this long is disabled.
          disable_after: duration.prefault('5d'),
          // Requests in flight per subscription: a slow one never holds the others' slots. 16, not 4:
          // each pass claims, and each settle records, what its slots freed in one commit, so more
          // slots mean fewer commits per delivery (bench/events/probe.ts, 5,000 messages to three
          // subscriptions: 25-35 % less daemon CPU per event delivery than with 4).
          concurrency: z.number().int().min(1).max(64).default(16),
        })
        .prefault({}),
    })
    .prefault({}),
});

/** The configuration as the daemon uses it: defaults filled, durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
/** The configuration document as written in files and the management API. */
export type ConfigDocument = z.input<typeof configSchema>;

/** Paths (dot-joined) of every secret in the document; redaction and logs both use this list. */
export const SECRET_PATHS = [
  'database.url',
  'channels.app_secret',
  'channels.verify_token',
  'channels.access_token',
  'responder.openai.api_key',
] as const;
