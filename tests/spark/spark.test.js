// pqlkit sql's Spark dialect on a real Apache Spark in local mode must give DuckDB's results,
// row for row; its BigQuery and Snowflake SQL must parse (sqlglot). Run by `npm test` after
// .ci/spark.js installed Java 17, pyspark and sqlglot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { python } from '../../.ci/spark.js';
import { openHistory } from '../../js/cli/duckdb.js';
import { readConversions } from '../../js/cli/input.js';
import { simulate } from '../../js/cli/simulate.js';
import { buildSql } from '../../js/cli/sql.js';

const dir = mkdtempSync(join(tmpdir(), 'pqlkit-spark-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runPy = fileURLToPath(new URL('./run.py', import.meta.url));

/** The simulated rule set, plus rules of every other signal kind, account-level ones included. */
function ruleSets(simulated) {
  const more = {
    version: 1,
    pages: { pricing: '/pricing*' },
    rules: [
      { id: 'team-search', when: { event: 'feature_used', where: { feature: 'search' }, distinctUsers: { $gte: 2 }, within: '7d', across: 'account' }, score: 20 },
      { id: 'account-exports', when: { event: 'report_exported', count: { $gte: 10 }, within: '14d', across: 'account' }, score: 10 },
      { id: 'account-days', when: { event: 'feature_used', distinctDays: { $gte: 4 }, within: '7d', across: 'account' }, score: 5 },
      { id: 'habit', when: { all: [{ sessions: { $gte: 3 }, within: '7d' }, { not: { event: 'page_view', where: { page: 'pricing' }, count: 1, within: '24h' } }] }, score: 15 },
      { id: 'new-and-busy', audience: { plan: { $in: ['trial', 'free'] } }, when: { any: [{ firstSeen: true, within: '3d' }, { daysSinceFirstSeen: { $gte: 10, $lt: 20 } }] }, score: 10 },
      { id: 'quiet', when: { event: 'report_exported', count: { $lt: 2 }, within: '24h' }, trigger: { event: 'page_view' }, score: 5 },
      { id: 'big-projects', when: { traits: { 'account.company_size': { $gte: 50 } } }, score: 5 },
    ],
    scoring: { threshold: 40 },
  };
  return [JSON.stringify(simulated), JSON.stringify(more)];
}

const numbers = (text) => (text ?? '').split(/[,:]/).filter(Boolean).map(Number);

test('Spark local mode gives DuckDB’s results, and the BigQuery and Snowflake SQL parse', async () => {
  const chunks = [];
  const sim = simulate({ users: 200, days: 40, seed: '21' }, (chunk) => chunks.push(chunk));
  writeFileSync(join(dir, 'events.ndjson'), chunks.join(''));
  writeFileSync(join(dir, 'conversions.csv'), sim.conversions);
  const { connection } = await openHistory(join(dir, 'events.ndjson'), readConversions(join(dir, 'conversions.csv')));
  await connection.run(`COPY (SELECT * FROM pqlkit_events) TO '${join(dir, 'events.parquet')}' (FORMAT parquet)`);
  await connection.run(`COPY (SELECT * FROM pqlkit_conversions) TO '${join(dir, 'conversions.parquet')}' (FORMAT parquet)`);
  const sets = ruleSets(JSON.parse(sim.rules));
  const duck = [];
  const queries = [];
  for (const [i, rules] of sets.entries()) {
    duck.push((await connection.runAndReadAll(buildSql(rules, 'duckdb').sql)).getRowObjectsJS());
    const path = join(dir, `spark-${i}.sql`);
    writeFileSync(path, buildSql(rules, 'spark').sql);
    queries.push(path);
    for (const dialect of ['bigquery', 'snowflake']) {
      const file = join(dir, `${dialect}-${i}.sql`);
      writeFileSync(file, buildSql(rules, dialect).sql);
      const parsed = spawnSync(python, [runPy, 'parse', dialect, file], { encoding: 'utf8' });
      assert.equal(parsed.status, 0, parsed.stderr);
      assert.match(parsed.stdout, new RegExp(`${dialect}: one (Select|Union) statement`));
    }
  }
  connection.closeSync();
  const out = join(dir, 'spark.json');
  const spark = spawnSync(python, [runPy, 'spark', join(dir, 'events.parquet'), join(dir, 'conversions.parquet'), out, ...queries], { encoding: 'utf8' });
  assert.equal(spark.status, 0, spark.stderr.slice(-4000));
  const { results, startSeconds } = JSON.parse(readFileSync(out, 'utf8'));
  console.log(`spark: started in ${startSeconds.toFixed(1)} s, queries ${results.map((r) => r.seconds.toFixed(1)).join(' s, ')} s`);
  let compared = 0;
  for (const [i, { rows }] of results.entries()) {
    const key = (r) => `${r.level}:${r.id}`;
    const want = new Map(duck[i].map((r) => [key(r), r]));
    assert.equal(rows.length, want.size, `rule set ${i}: as many rows`);
    for (const row of rows) {
      const d = want.get(key(row));
      assert.ok(d, `rule set ${i}: ${key(row)} in both`);
      for (const [column, value] of Object.entries(row)) {
        const expected = d[column];
        if (/_signals$/.test(column)) assert.deepEqual(JSON.parse(value ?? 'null'), JSON.parse(expected ?? 'null'), `${key(row)} ${column}`);
        else if (column === 'score_rises') assert.deepEqual(numbers(value), numbers(expected), `${key(row)} ${column}`);
        else if (typeof value === 'number' || typeof expected === 'bigint') assert.equal(value === null ? null : Number(value), expected === null ? null : Number(expected), `${key(row)} ${column}`);
        else assert.equal(value, expected, `${key(row)} ${column}`);
        if (/_flagged_at$/.test(column) && value !== null) compared++;
      }
    }
  }
  assert.ok(compared > 500, `enough flags compared (${compared})`);
});
