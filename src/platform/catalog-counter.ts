/**
 * Bench-only counting of the catalog's statements (the D1 binding `DB`), for `npm run bench`'s
 * catalog-per-webhook figures. Off unless the Worker has `BENCH_COUNT_CATALOG=true` (the bench sets it
 * as a `--var` when it starts the app; production never does): then `servicesFor` hands out the catalog
 * through a counting wrapper, and `GET /api/__bench/catalog-statements` answers the counts so far.
 * Without the variable the binding is returned as it is and the route does not exist (404).
 *
 * Each statement that runs is counted once, as a read (SELECT, a WITH … SELECT, PRAGMA) or a write
 * (anything else); a batch counts each of its statements, and the batch itself in `batches`. Counts
 * are per isolate (module state), which locally is the one isolate running routes and consumers.
 */

export interface CatalogStatementCounts {
  reads: number;
  writes: number;
  batches: number;
}

const counts: CatalogStatementCounts = { reads: 0, writes: 0, batches: 0 };

export const CATALOG_STATEMENTS_PATH = "/api/__bench/catalog-statements";

/** Bench mode: the Worker has `BENCH_COUNT_CATALOG=true` (a development variable; not in AppBindings on purpose). */
export function countingEnabled(env: object): boolean {
  return (env as { BENCH_COUNT_CATALOG?: unknown }).BENCH_COUNT_CATALOG === "true";
}

/** Whether a SQL text only reads. */
export function isReadStatement(sql: string): boolean {
  const text = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, "");
  if (/^(select|pragma|explain)\b/i.test(text)) return true;
  return /^with\b/i.test(text) && !/\b(insert|update|delete|replace)\b/i.test(text);
}

function count(sql: string): void {
  if (isReadStatement(sql)) counts.reads++;
  else counts.writes++;
}

/** The counts so far (a copy). */
export function catalogStatementCounts(): CatalogStatementCounts {
  return { ...counts };
}

const realStatements = new WeakMap<object, D1PreparedStatement>();

function countedStatement(statement: D1PreparedStatement, sql: string): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => countedStatement(statement.bind(...values), sql),
    first: (column?: string) => {
      count(sql);
      return column === undefined ? statement.first() : statement.first(column);
    },
    run: () => {
      count(sql);
      return statement.run();
    },
    all: () => {
      count(sql);
      return statement.all();
    },
    raw: (options?: { columnNames?: boolean }) => {
      count(sql);
      return options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw();
    },
  } as unknown as D1PreparedStatement;
  realStatements.set(wrapped, statement);
  sqlOf.set(wrapped, sql);
  return wrapped;
}

const sqlOf = new WeakMap<object, string>();

function unwrapBatch(statements: D1PreparedStatement[]): D1PreparedStatement[] {
  counts.batches++;
  return statements.map((s) => {
    count(sqlOf.get(s) ?? "");
    return realStatements.get(s) ?? s;
  });
}

function countedSession(session: D1DatabaseSession): D1DatabaseSession {
  return {
    prepare: (sql: string) => countedStatement(session.prepare(sql), sql),
    batch: (statements: D1PreparedStatement[]) => session.batch(unwrapBatch(statements)),
    getBookmark: () => session.getBookmark(),
  } as unknown as D1DatabaseSession;
}

/** The catalog binding as services should use it: counted in bench mode, untouched otherwise. */
export function catalogBinding(env: { DB: D1Database }): D1Database {
  if (!countingEnabled(env)) return env.DB;
  const db = env.DB;
  return {
    prepare: (sql: string) => countedStatement(db.prepare(sql), sql),
    batch: (statements: D1PreparedStatement[]) => db.batch(unwrapBatch(statements)),
    exec: (sql: string) => {
      for (const part of sql.split(";").filter((p) => p.trim() !== "")) count(part);
      return db.exec(sql);
    },
    withSession: (constraintOrBookmark?: string) => countedSession(db.withSession(constraintOrBookmark)),
    dump: () => db.dump(),
  } as unknown as D1Database;
}

/** The counts route's answer in bench mode; undefined otherwise (the request goes on, to a 404). */
export function catalogStatementsRoute(env: object, method: string, path: string): Response | undefined {
  if (!countingEnabled(env) || method !== "GET" || path !== CATALOG_STATEMENTS_PATH) return undefined;
  return Response.json({ data: catalogStatementCounts() }, { headers: { "Cache-Control": "no-store" } });
}
