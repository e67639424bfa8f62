// `pqlkit sql`: the rule set as one SQL query (src/sql/, in the authoring wasm). The same
// builder feeds `backtest --engine duckdb`.
import { answer, put } from '../core.js';
import { cliWasm } from './wasm.js';

export const DIALECTS = ['duckdb', 'spark', 'bigquery', 'snowflake'];

/**
 * `{ sql }` or `{ errors: [{ code, path, message }] }` (validation errors, `sql_unsupported`
 * for a construct SQL cannot express). `events` / `conversions`: table names (or dbt refs);
 * `asOf`: end of observation in ms, or undefined.
 */
export function buildSql(rulesJson, dialect, { events = 'pqlkit_events', conversions = 'pqlkit_conversions', asOf } = {}) {
  const wasm = cliWasm();
  const lengths = put(wasm, rulesJson, dialect, events, conversions);
  return JSON.parse(answer(wasm, wasm.sql_build(...lengths, Number.isFinite(asOf) ? asOf : NaN)));
}
