// Kysely binds `.limit(n)` as a parameter (`limit ?`). SQLite plans a bound LIMIT without its
// ORDER BY ... LIMIT optimisations, and on the hot lookups (`order by x desc limit 1` on an index)
// that costs 2–3× the statement's CPU time (7–15 µs each, measured with bench/profile-processing.ts).
// A whole-number limit of the top-level select is written as a literal instead: standard SQL on
// SQLite and PostgreSQL alike, and still no user text in the SQL (a safe integer only).
import {
  type KyselyPlugin,
  LimitNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  SelectQueryNode,
  type UnknownRow,
  ValueNode,
} from 'kysely';

export class InlineLimitPlugin implements KyselyPlugin {
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (!SelectQueryNode.is(node) || node.limit === undefined) return node;
    const limit = node.limit.limit;
    if (!ValueNode.is(limit) || limit.immediate) return node;
    const n = limit.value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return node;
    return { ...node, limit: LimitNode.create(ValueNode.createImmediate(n)) };
  }

  transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(result);
  }
}
