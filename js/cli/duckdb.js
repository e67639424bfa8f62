// `pqlkit backtest --engine duckdb`: the rule set's SQL (src/sql/, the same builder as
// `pqlkit sql`) run by DuckDB over NDJSON, CSV or Parquet files and globs. It returns the
// per-user records the wasm replay returns, so that js/cli/backtest.js reports both alike.
// @duckdb/node-api is an optional dependency, imported only on this path.
import { CliError } from './input.js';
import { buildSql } from './sql.js';

/** The DuckDB module, or a CliError saying how to get it. */
export async function loadDuckDb() {
  try {
    return await import('@duckdb/node-api');
  } catch (error) {
    throw new CliError(`--engine duckdb needs the npm package @duckdb/node-api (an optional dependency of pqlkit; npm install @duckdb/node-api): ${error.message}`);
  }
}

const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;

/** The reader of `path` (a file or a glob) by its extension. */
function reader(path) {
  const files = quote(path);
  if (/\.parquet$/i.test(path)) return `read_parquet(${files}, filename = true, file_row_number = true)`;
  if (/\.csv(\.gz)?$/i.test(path)) return `read_csv(${files}, header = true, all_varchar = true, filename = true)`;
  // NDJSON, plain or gzip: the history format of `pqlkit backtest --help`.
  const columns = "{userId: 'VARCHAR', timestamp: 'VARCHAR', type: 'VARCHAR', event: 'VARCHAR', accountId: 'VARCHAR', props: 'JSON', traits: 'JSON'}";
  return `read_json(${files}, format = 'newline_delimited', columns = ${columns}, filename = true)`;
}

/** The first of `names` that `columns` has. */
const pick = (columns, ...names) => names.find((n) => columns.has(n));

/**
 * SQL selecting the query's events table (src/sql/mod.rs: user_id, ts, type, event,
 * account_id, props, seq) from a history whose columns are `columns` (name → DuckDB type):
 * pqlkit's NDJSON names (userId, timestamp, accountId, props / traits) or the table's own.
 */
function eventsSelect(source, columns) {
  const col = (...names) => {
    const name = pick(columns, ...names);
    return name === undefined ? 'NULL' : `"${name}"`;
  };
  const ts = col('ts', 'timestamp');
  const tsType = columns.get(pick(columns, 'ts', 'timestamp')) ?? 'VARCHAR';
  // Milliseconds (a number or digits) or ISO 8601; without an offset: UTC (the session's zone).
  const tsMs = /TIMESTAMP/.test(tsType)
    ? `epoch_ms(${ts})`
    : /INT|DOUBLE|DECIMAL|FLOAT/.test(tsType)
      ? `CAST(${ts} AS BIGINT)`
      : `CASE WHEN regexp_full_match(trim(${ts}), '-?[0-9]+(\\.[0-9]*)?') THEN CAST(floor(CAST(trim(${ts}) AS DOUBLE)) AS BIGINT) ELSE epoch_ms(CAST(${ts} AS TIMESTAMPTZ)) END`;
  const text = (name) => (columns.has(name) ? (/JSON|VARCHAR/.test(columns.get(name)) ? `CAST("${name}" AS VARCHAR)` : `CAST(to_json("${name}") AS VARCHAR)`) : 'NULL');
  const type = col('type');
  const props = columns.has('traits') ? `CASE WHEN ${type} IN ('identify', 'group') THEN ${text('traits')} ELSE ${text('props')} END` : text('props');
  const order = columns.has('file_row_number') ? 'filename, file_row_number' : '';
  const seq = columns.has('seq') ? `CAST("seq" AS BIGINT)` : `ROW_NUMBER() OVER (${order ? `ORDER BY ${order}` : ''})`;
  return `SELECT CAST(${col('user_id', 'userId')} AS VARCHAR) AS user_id, ${tsMs} AS ts, CAST(${type} AS VARCHAR) AS type, CAST(${col('event')} AS VARCHAR) AS event, CAST(${col('account_id', 'accountId')} AS VARCHAR) AS account_id, ${props} AS props, ${seq} AS seq FROM ${source}`;
}

/** Opens DuckDB with the history as table `pqlkit_events` and the conversions as `pqlkit_conversions`. */
export async function openHistory(eventsPath, conversions, { threads, memoryLimit } = {}) {
  const { DuckDBInstance } = await loadDuckDb();
  // Without the ICU extension (not bundled) DuckDB reads a time without an offset as UTC.
  const options = {};
  if (threads) options.threads = String(threads);
  if (memoryLimit) options.memory_limit = memoryLimit;
  const instance = await DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  const source = reader(eventsPath);
  let described;
  try {
    described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  } catch (error) {
    throw new CliError(`cannot read events ${eventsPath}: ${error.message}`, /No files found/i.test(error.message) ? 2 : 1);
  }
  const columns = new Map(described.getRowObjectsJS().map((r) => [r.column_name, r.column_type]));
  if (!pick(columns, 'user_id', 'userId')) throw new CliError(`${eventsPath}: no user_id (or userId) column`, 1);
  await connection.run(`CREATE VIEW pqlkit_events AS ${eventsSelect(source, columns)}`);
  await connection.run('CREATE TABLE pqlkit_conversions (user_id VARCHAR, converted_at BIGINT, account_id VARCHAR)');
  const appender = await connection.createAppender('pqlkit_conversions');
  const row = (user, at, account) => {
    user === null ? appender.appendNull() : appender.appendVarchar(user);
    appender.appendBigInt(BigInt(at));
    account == null ? appender.appendNull() : appender.appendVarchar(account);
    appender.endRow();
  };
  for (const [user, at] of conversions.users) row(user, at, conversions.userAccounts.get(user));
  for (const [account, at] of conversions.accounts) row(null, at, account);
  // The latest conversion of the CSV, which may be a user's later, ignored one: the default end.
  if (Number.isFinite(conversions.latest)) row(null, conversions.latest, null);
  appender.closeSync();
  return { instance, connection };
}

const num = (v) => (v === null || v === undefined ? NaN : Number(v));

/**
 * Runs the rule set's SQL over the history; returns what js/cli/backtest.js needs of a replay:
 * `{ users, events, skippedAfterConversion, excluded, minTime, maxTime }`.
 */
/** History rows per pass: the query's windows hold about 440 bytes per row (4.4 GB for 10 M). */
const ROWS_PER_PASS = 5_000_000;

/** Whether a rule set has an account-level signal (its windows span users: no passes by user). */
const hasAccountSignals = (rules) => JSON.stringify(rules.rules ?? []).includes('"across"');

export async function duckdbReplay({ rulesJson, rules, eventsPath, conversions, end, threads, memoryLimit, passes }) {
  const built = buildSql(rulesJson, 'duckdb', { asOf: end, events: 'pqlkit_pass' });
  if (built.errors) {
    const lines = built.errors.map((e) => `  ${e.path || '(rule set)'}  ${e.code}  ${e.message}`);
    throw new CliError(`--engine duckdb: the rule set cannot be written as SQL:\n${lines.join('\n')}`, 1);
  }
  const { connection } = await openHistory(eventsPath, conversions, { threads, memoryLimit });
  const rows = [];
  try {
    // Users are independent: a big history runs in passes of users (by a hash of the id),
    // so that memory holds one pass. Account-level signals need every user of an account.
    if (passes === undefined) {
      const count = Number((await connection.runAndReadAll('SELECT count(*) AS n FROM pqlkit_events')).getRowObjectsJS()[0].n);
      passes = hasAccountSignals(rules) ? 1 : Math.max(1, Math.ceil(count / ROWS_PER_PASS));
    }
    for (let k = 0; k < passes; k++) {
      const filter = passes === 1 ? '' : ` WHERE hash(user_id) % ${passes} = ${k}`;
      await connection.run(`CREATE OR REPLACE VIEW pqlkit_pass AS SELECT * FROM pqlkit_events${filter}`);
      rows.push(...(await connection.runAndReadAll(built.sql)).getRowObjectsJS());
    }
  } catch (error) {
    throw new CliError(`--engine duckdb: ${eventsPath}: ${error.message}`, 1);
  } finally {
    connection.closeSync();
  }
  const out = { users: [], events: 0, skippedAfterConversion: 0, excluded: new Set(), minTime: Infinity, maxTime: -Infinity };
  for (const r of rows) {
    if (r.level !== 'user') continue;
    if (r.first_seen === null) {
      if (r.converted_at !== null && num(r.events_after_conversion) > 0) out.excluded.add(r.id);
      continue;
    }
    const firstSeen = num(r.first_seen);
    const lastSeen = num(r.last_seen);
    const rises = [];
    for (const pair of (r.score_rises ?? '').split(',')) {
      if (!pair) continue;
      const [t, s] = pair.split(':');
      rises.push(Number(t), Number(s));
    }
    out.users.push({
      userId: r.id,
      accountId: r.account_id ?? undefined,
      firstSeen,
      conv: r.converted_at === null ? undefined : num(r.converted_at),
      fires: rules.rules.map((_, i) => num(r[`r${i + 1}_flagged_at`])),
      scoreAt: num(r.score_reached_at),
      records: rises,
    });
    out.events += num(r.events);
    out.skippedAfterConversion += num(r.events_after_conversion);
    if (firstSeen < out.minTime) out.minTime = firstSeen;
    if (lastSeen > out.maxTime) out.maxTime = lastSeen;
  }
  return out;
}
