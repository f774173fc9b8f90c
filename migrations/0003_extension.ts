// The extension API (SPEC §8): the marketplace catalog with the `native-whatsapp` record, agents
// (private and shared) with the channel each owns, extension attachments, and the history of
// management config versions stored through PUT .../management/config.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('marketplace_extensions')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    // The API answers the running package version; the stored one is kept current on start.
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sqlIn('status', ['active', 'published', 'beta', 'deprecated'])),
    )
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('author', 'text')
    .addColumn('extension_type', 'text', (c) => c.notNull())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('capabilities', 'text', (c) => c.notNull())
    .addColumn('required_permissions', 'text', (c) => c.notNull())
    .addColumn('documentation_url', 'text')
    .addColumn('pricing_model', 'text', (c) =>
      c.check(sqlIn('pricing_model', ['free', 'one_time', 'subscription', 'revenue_share'])),
    )
    .addColumn('price', 'real')
    .addColumn('revenue_share_percent', 'real')
    .addColumn('is_official', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('install_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating', 'real')
    .addColumn('review_count', 'integer', (c) => c.notNull().defaultTo(0))
    // Null until the first start stamps them from the daemon's clock (a migration has no clock).
    .addColumn('created_at', 'bigint')
    .addColumn('updated_at', 'bigint')
    .execute();

  await db
    .insertInto('marketplace_extensions')
    .values({
      id: 1,
      slug: 'native-whatsapp',
      name: 'WhatsApp Native Extension',
      version: '0.1.0',
      status: 'active',
      description:
        'The WhatsApp AI extension for outreach, follow-up automation, conversation health, and campaign response tracking.',
      author: 'SSNATW',
      extension_type: 'social',
      platform: 'whatsapp',
      capabilities: JSON.stringify([
        'webhook_ingress',
        'conversation_state',
        'conversation_routing',
        'conversation_scoring',
        'escalation',
        'auto_reply',
        'follow_up_automation',
        'outreach_campaigns',
        'campaign_response_tracking',
        'runtime_insights',
      ]),
      required_permissions: JSON.stringify([
        'whatsapp_business_messaging',
        'whatsapp_business_management',
        'conversations:read',
        'conversations:write',
        'campaigns:write',
        'insights:read',
      ]),
      // The API reference served by the daemon itself, generated from the schemas it enforces.
      documentation_url: '/api/docs',
      pricing_model: 'free',
      price: 0,
      revenue_share_percent: null,
      is_official: 1,
      install_count: 0,
      rating: 0,
      review_count: 0,
      created_at: null,
      updated_at: null,
    })
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sqlIn('kind', ['private', 'shared'])))
    // One agent per channel: the owner of a phone number's conversations must be unambiguous.
    .addColumn('phone_number_id', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agents_kind_id').on('agents').columns(['kind', 'id']).execute();

  await db.schema
    .createTable('agent_extension_attachments')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('agent_id', 'integer', (c) => c.notNull().references('agents.id'))
    .addColumn('offer_id', 'integer', (c) => c.notNull().references('marketplace_extensions.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('install_mode', 'text', (c) =>
      c.notNull().check(sqlIn('install_mode', ['trial', 'purchase', 'queued'])),
    )
    .addColumn('billing_model', 'text', (c) => c.notNull())
    .addColumn('revenue_share_percent', 'real')
    .addColumn('upfront_price', 'real')
    .addColumn('notes', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activated_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // Installing twice on one agent returns the first attachment; the constraint backs that up.
    .addUniqueConstraint('agent_extension_attachments_agent_offer', ['agent_id', 'offer_id'])
    .execute();

  await db.schema
    .createTable('config_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    // The stored management override (a partial config document), not the effective config.
    .addColumn('document', 'text', (c) => c.notNull())
    // SHA-256 of the file layers this override was made over: when the files change, they win again.
    .addColumn('base_hash', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('changed_keys', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
