// The import rules of the house (STYLE.md "Who may import whom", ARCHITECTURE.md), checked on the real
// import graph of src/ and migrations/ read with the TypeScript parser. A failure names each import
// that breaks a rule ("src/a.ts imports src/b.ts") and the rule, so whoever added it can move it.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Import {
  /** The importing file, relative to the repository root. */
  from: string;
  /** A repository-relative path for a relative import, else the package name. */
  to: string;
  /** `import type` / `export type`: erased at runtime. */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** `./x.js` from `src/a/b.ts` → `src/a/x.ts` (or .tsx, or a folder's index). */
function resolve(from: string, spec: string): string {
  const base = path.join(path.dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`]) {
    if (fs.existsSync(path.join(ROOT, candidate))) return candidate.split(path.sep).join('/');
  }
  return path.normalize(base).split(path.sep).join('/');
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) =>
    out.push({ from: file, to: spec.startsWith('.') ? resolve(file, spec) : spec, typeOnly });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const srcFiles = sourceFiles('src');
const srcImports = srcFiles.flatMap(importsOf);
const migrationImports = sourceFiles('migrations').flatMap(importsOf);

const under = (p: string, ...dirs: string[]) => dirs.some((d) => p === d || p.startsWith(`${d}/`));
const show = (i: Import) => `${i.from} imports ${i.to}${i.typeOnly ? ' (type only)' : ''}`;

/** The composition root and the layers above the domain: the API, the dashboard, the CLI. */
const WIRING = ['src/main.ts', 'src/daemon.ts', 'src/app.ts', 'src/app-deps.ts'];
const API_LAYER = ['src/http', 'src/dashboard', 'src/extension', 'src/cli', ...WIRING];

describe('import rules', () => {
  it('reads a graph (the check is not vacuous)', () => {
    expect(srcFiles.length).toBeGreaterThan(100);
    expect(srcImports.some((i) => i.from === 'src/daemon.ts' && i.to === 'src/app.ts')).toBe(true);
  });

  it('only main, cli/ and the daemon import the daemon or the app; app-deps.ts only the web layer', () => {
    const bad = srcImports.filter(
      (i) =>
        ((i.to === 'src/daemon.ts' || i.to === 'src/app.ts') &&
          !under(i.from, 'src/main.ts', 'src/cli', 'src/daemon.ts')) ||
        (i.to === 'src/app-deps.ts' &&
          !under(i.from, 'src/app.ts', 'src/daemon.ts', 'src/http', 'src/dashboard')),
    );
    expect(
      bad.map(
        (i) =>
          `${show(i)}: services must not import the composition root (a shared interface belongs in src/lib/, e.g. lib/service.ts)`,
      ),
    ).toEqual([]);
  });

  it('nothing below the API layer imports extension/, http/, dashboard/ or cli/', () => {
    const bad = srcImports.filter(
      (i) =>
        !under(i.from, ...API_LAYER) && under(i.to, 'src/extension', 'src/http', 'src/dashboard', 'src/cli'),
    );
    expect(
      bad.map(
        (i) =>
          `${show(i)}: the pipeline and domain modules must not depend on the API layer (move what both need into a domain module, as agents/ and runtime/ were)`,
      ),
    ).toEqual([]);
  });

  it('only store/ imports kysely or better-sqlite3', () => {
    const bad = srcImports.filter(
      (i) => /^(kysely|better-sqlite3)(\/|$)/.test(i.to) && !under(i.from, 'src/store'),
    );
    expect(
      bad.map((i) => `${show(i)}: SQL and the database driver live behind src/store/ repositories`),
    ).toEqual([]);
  });

  it('the ground floor imports nothing above it: lib/ only lib/, store/ only store/, lib/ and the migrations list', () => {
    const bad = srcImports.filter(
      (i) =>
        (i.to.startsWith('src/') || i.to.startsWith('migrations/')) &&
        ((under(i.from, 'src/lib') && !under(i.to, 'src/lib')) ||
          (under(i.from, 'src/store') && !under(i.to, 'src/store', 'src/lib', 'migrations/index.ts'))),
    );
    expect(
      bad.map((i) => `${show(i)}: lib/ and store/ are the ground floor and import nothing above them`),
    ).toEqual([]);
  });

  it('routes and the dashboard call services, not repositories', () => {
    const bad = srcImports.filter(
      (i) =>
        under(i.from, 'src/http/routes', 'src/dashboard') &&
        /^src\/store\/.*-repo\.ts$/.test(i.to) &&
        !i.typeOnly,
    );
    expect(
      bad.map(
        (i) =>
          `${show(i)}: a route or a dashboard page validates, calls one service function and shapes the answer`,
      ),
    ).toEqual([]);
  });

  it('migrations import nothing from src/ (they are frozen history)', () => {
    const bad = migrationImports.filter((i) => i.to.startsWith('src/') || i.to.startsWith('../'));
    expect(bad.map((i) => `${show(i)}: copy what the migration needs into it`)).toEqual([]);
  });

  it('there are no import cycles in src/', () => {
    expect(cycles(srcImports).map((c) => `import cycle: ${c.join(' → ')}`)).toEqual([]);
  });
});

/** One concrete cycle per strongly connected component of the graph (Tarjan), shortest found by BFS. */
function cycles(imports: Import[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const i of imports) {
    if (!i.to.startsWith('src/')) continue;
    graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    // Shortest path from start back to start inside the component.
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift() as string;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [start];
          for (let u: string | undefined = v; u !== undefined && u !== start; u = previous.get(u))
            path.splice(1, 0, u);
          return [...path, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return component;
  });
}
