// The one place that knows which engine is underneath (SPEC §10): SQLite on one box, PostgreSQL for
// several instances. Repositories write portable Kysely; where the engines' SQL differs they ask here.
import {
  type ColumnDefinitionNode,
  type DataTypeNode,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresAdapter,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import type { Db } from './db.js';

export type Engine = 'sqlite' | 'postgres';

/** The engine behind `db` (a transaction or a single connection answers like the database it came from). */
export function engineOf(db: Db): Engine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Rewrites the SQLite-era schema statements of migrations/ for PostgreSQL, so the frozen migrations
 * keep producing the very same SQLite schema: `real` becomes `double precision` (SQLite's REAL is an
 * 8-byte float, PostgreSQL's is 4), and `integer primary key autoincrement` becomes an identity column.
 */
class PostgresSchemaTransformer extends OperationNodeTransformer {
  protected override transformDataType(node: DataTypeNode): DataTypeNode {
    return node.dataType === 'real' ? { ...node, dataType: 'double precision' } : node;
  }

  protected override transformColumnDefinition(node: ColumnDefinitionNode): ColumnDefinitionNode {
    const out = super.transformColumnDefinition(node);
    if (!out.autoIncrement) return out;
    return {
      ...out,
      autoIncrement: false,
      generated: Object.freeze({ kind: 'GeneratedNode', byDefault: true, identity: true }),
    };
  }
}

export const postgresSchemaPlugin: KyselyPlugin = {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return new PostgresSchemaTransformer().transformNode(args.node);
  },
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  },
};
