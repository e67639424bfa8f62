#!/usr/bin/env node
// The pqlkit command line: validate a rule set, backtest it against an event history with
// conversions, or simulate such a history. It runs the very wasm engine the browser runs.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Core } from './core.js';
import { cliWasm, loadCliWasm } from './cli/wasm.js';
import { CliError, parseDuration, parseTime, readConversions, readText } from './cli/input.js';
import { backtest, VERDICT } from './cli/backtest.js';
import { renderBacktest } from './cli/report.js';
import { simulate } from './cli/simulate.js';
import { buildSql, DIALECTS } from './cli/sql.js';
import { convertHistory, FORMATS } from './cli/history-formats.js';

const V = VERDICT;
const HELP = `pqlkit — check Product-Qualified Lead rules before you ship them

Usage:
  pqlkit validate <rules.json> [--json]
  pqlkit backtest --rules <rules.json> --events <events.ndjson[.gz]> --conversions <conversions.csv>
                  [--horizon 30d] [--end <time>] [--threads N] [--engine wasm|duckdb]
                  [--format pqlkit|segment|posthog] [--json]
  pqlkit sql --rules <rules.json> --dialect duckdb|spark|bigquery|snowflake
             [--events-table T] [--conversions-table T] [--as-of <time>]
  pqlkit simulate --users <N> --days <D> --seed <S> [--out <dir>]
  pqlkit --help | --version

validate
  Checks a rule set exactly as init() would and prints every error as
  "<JSON path>  <code>  <message>". Exit 0 when valid, 1 when invalid, 2 when the file cannot be
  read or the command is misused. --json prints {"valid", "errors": [{code, path, message}]}.

backtest
  Replays each user's history, in time order, through a pqlkit engine reset for each user (the same wasm
  core as the browser; state per user is bounded as in the browser) and measures every rule and
  the score threshold against the conversions.

  --rules        the rule set (validated first; exit 1 with the errors when invalid)
  --events       event history, NDJSON (one JSON object per line), gzip when named *.gz:
                   {"timestamp": 1736150400000, "userId": "u1", "accountId": "acme",
                    "event": "feature_used", "props": {"feature": "export"}}
                 timestamp: ms since the epoch or ISO 8601 (2025-01-06, 2025-01-06T08:00:00Z,
                 ...+02:00; without an offset: UTC); accountId and props optional
                 (an accountId that differs from the user's current account calls group()).
                 Traits lines (timestamp optional; without it they apply before the first event):
                   {"type": "identify", "userId": "u1", "traits": {"plan": "trial"}}
                   {"type": "group", "userId": "u1", "accountId": "acme", "traits": {"company_size": 40}}
                 Fastest when every user's lines are contiguous (grouped by userId; order within
                 a user does not matter): the file is streamed in pieces of whole users, replayed
                 in parallel. Otherwise it is split into 64 temporary partition files by userId
                 and each is replayed in memory (sort the file by userId when it is huge).
  --conversions  CSV "userId,convertedAt[,accountId]", optional header row, convertedAt in ms or
                 ISO 8601; the earliest row of a user counts. A row with an empty userId and an
                 accountId converts the account only.
  --horizon      conversion window (default 30d; units s m h d w)
  --end          end of the observation (ms or ISO 8601). Default: the later of the user's last
                 event and the latest conversion in the CSV. Time-driven checks (notFollowedBy,
                 trial age) run up to it after a user's last event.
  --threads      replay threads (default: one per core, at most 8; files under 8 MB: 1)
  --engine       wasm (default): the replay engine above. duckdb: the rule set's SQL (pqlkit sql)
                 run by DuckDB (npm @duckdb/node-api, an optional dependency) over --events as
                 NDJSON (as above), CSV or Parquet, a file or a glob ('hist/*.parquet'). CSV and
                 Parquet carry the columns of the SQL's events table (see sql below) or the NDJSON
                 names. Same report, same figures.
  --memory-limit with --engine duckdb: DuckDB's memory limit (e.g. 8GB; default 80 % of RAM);
                 beyond it DuckDB spills to .tmp in the current directory
  --format       pqlkit (default: the NDJSON above), segment (Segment messages as they land in S3
                 or a warehouse's raw JSON, one per line: type track/page/screen/identify/group,
                 event, userId or anonymousId, timestamp, properties, traits, groupId,
                 context.groupId) or posthog (PostHog's event export: event, distinct_id,
                 timestamp, properties with $set, $groups.company; $pageview is page_view,
                 $identify and $set are traits, $groupidentify the account). Both engines read
                 all three; segment and posthog files are rewritten to pqlkit NDJSON first.
  --json         the report as JSON on stdout; the throughput line goes to stderr

  Definitions
  - A user is replayed from their first event up to their conversion (inclusive: a customer is
    no longer a lead; later events are ignored). Users converted before their first event are
    left out. First seen = the first event.
  - Flagged by a rule: when it first fires (the browser's "rule:fired" event); by the score
    threshold: when the score first reaches scoring.threshold (the "qualified" event with reason "score").
  - Positive: converted within the horizon after the flag (flagged users) or after first seen
    (users not flagged).
  - conv flagged = precision = positives among flagged / flagged; conv not = positives among not
    flagged / not flagged; lift = conv flagged / conv not (∞ when no unflagged user converts);
    recall = flagged positives / all positives; share = flagged / all users.
  - /week = flagged / number of weeks (Monday to Sunday, UTC) the history spans; the per-week
    table counts users by the week of their first flag.
  - seen→flag: median days from first seen to the flag; flag→conv: median days from the flag to
    the conversion, over flagged users who converted.
  - Accounts: an account is the users that carry its id; first seen, flag and conversion are the
    earliest of its users' (plus account-only conversion rows); flags after the account converted
    do not count. Users without an account count at user level only.
  - Threshold sweep: for every distinct maximum score reached by some user (at most 40 values,
    picked by quantile) and the configured threshold (marked *): users whose score ever reached
    it, flagged when it first did, with the same figures and verdict.

  Verdict (computed on the user-level figures; the first that applies wins)
    no signal  no user converted within the horizon (nothing to calibrate against)
    too tight  flags nobody, or recall < ${V.tightRecall * 100} %, or median flagged → converted < ${V.tightLeadDays} day
               (it flags users at the moment they convert anyway)
    too loose  flags ≥ ${V.looseShare * 100} % of users and precision < ${V.looseLift} × the baseline (the
               conversion rate of all users within the horizon)
    no signal  lift < ${V.signalLift}
    ok         otherwise

  Output: aligned tables (users, accounts, verdicts with reasons, flagged per week, threshold
  sweep); with --json: {data, horizonDays, rules: [{id, kind, score, user, account, verdict,
  reason}], score: {threshold, user, account, verdict, reason} | null, sweep: [...], throughput}.
  The last line is the throughput in events/s (events replayed per second of wall time, reading
  included).
  Exit 0 after a report (whatever the verdicts), 1 on invalid rules or input lines, 2 on usage
  errors or unreadable files.

sql
  Prints the rule set as one SQL query (a dbt model: table names are parameters) with the
  engine's semantics: the window bucket rule, 30-minute sessions, UTC days, the replay's order,
  histories cut at each user's conversion. A construct SQL cannot express is refused with its
  JSON path (code sql_unsupported; exit 1).

  --dialect            duckdb | spark | bigquery | snowflake
  --events-table       default pqlkit_events; columns: user_id, ts (ms since the epoch, UTC; NULL
                       on identify/group rows that apply before the first event), type ('identify',
                       'group', else an event), event, account_id, props (JSON text: properties, or
                       the traits of identify/group rows), seq (order of rows with equal ts)
  --conversions-table  default pqlkit_conversions; columns: user_id (NULL: account-only),
                       converted_at (ms), account_id
  --as-of              end of observation (ms or ISO 8601); default: the later of each user's last
                       event and the latest conversion

  Output: one row per user: level, id, account_id, first_seen, last_seen, converted_at, events,
  events_after_conversion, then per rule N (in rule-set order, named in the header comment)
  rN_flagged_at (first flag, ms), rN_signals (JSON: signal values at that moment), rN_holds
  (whether it holds as of --as-of); then score_reached_at (the score first reaching
  scoring.threshold), score_rises ("ms:score,..." each new maximum), score_as_of.

simulate
  Writes a deterministic synthetic history to --out (default: the current directory):
  events.ndjson (grouped by user), conversions.csv and rules.json with four rules: a planted
  strong signal (integration-connected), a noise signal (theme-tinkerer), a too-loose rule
  (created-a-project) and a too-tight rule (billing-page-visit). Integrators convert at 45 %,
  everyone else at 6 %; theme switching is independent of conversion; converters visit the
  billing page minutes before converting. Same --users, --days and --seed → byte-identical files.

Examples
  npx pqlkit simulate --users 2000 --days 60 --seed 7 --out /tmp/pql
  npx pqlkit validate /tmp/pql/rules.json
  npx pqlkit backtest --rules /tmp/pql/rules.json --events /tmp/pql/events.ndjson --conversions /tmp/pql/conversions.csv
`;

/** `--name value`, `--name=value` and flags; positional arguments in `_`. */
function parseArgs(argv, spec) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!(name in spec)) throw new CliError(`unknown option --${name} (see pqlkit --help)`);
    if (spec[name] === 'flag') {
      if (eq !== -1) throw new CliError(`--${name} takes no value`);
      out[name] = true;
    } else {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new CliError(`--${name} needs a value`);
      out[name] = value;
    }
  }
  return out;
}

function required(args, names) {
  const missing = names.filter((n) => args[n] === undefined);
  if (missing.length) throw new CliError(`missing ${missing.map((n) => `--${n}`).join(', ')} (see pqlkit --help)`);
}

function compile(path) {
  const text = readText(path, 'rules');
  const core = new Core(cliWasm(), text, 'pqlkit-cli', 1);
  const errors = core.errors();
  core.free();
  return { text, errors };
}

/** The rule set's problems as the SQL builder sees them (validation, then sql_unsupported). */
function sqlErrors(path) {
  const text = readText(path, 'rules');
  return { text, errors: buildSql(text, 'duckdb').errors ?? [] };
}

function printErrors(path, errors, stream) {
  stream.write(`${path}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
  const w = Math.max(...errors.map((e) => (e.path || '(rule set)').length));
  const c = Math.max(...errors.map((e) => e.code.length));
  for (const e of errors) stream.write(`  ${(e.path || '(rule set)').padEnd(w)}  ${e.code.padEnd(c)}  ${e.message}\n`);
}

async function validateCommand(argv) {
  const args = parseArgs(argv, { json: 'flag' });
  if (args._.length !== 1) throw new CliError('usage: pqlkit validate <rules.json> [--json]');
  const path = args._[0];
  const { text, errors } = compile(path);
  if (args.json) {
    process.stdout.write(JSON.stringify({ valid: errors.length === 0, errors }, null, 2) + '\n');
  } else if (errors.length === 0) {
    const count = JSON.parse(text).rules?.length ?? 0;
    process.stdout.write(`${path}: valid (${count} rule${count === 1 ? '' : 's'})\n`);
  } else printErrors(path, errors, process.stdout);
  return errors.length === 0 ? 0 : 1;
}

async function backtestCommand(argv) {
  const args = parseArgs(argv, { rules: 'value', events: 'value', conversions: 'value', horizon: 'value', end: 'value', threads: 'value', engine: 'value', format: 'value', 'memory-limit': 'value', json: 'flag' });
  if (args._.length) throw new CliError(`unexpected argument "${args._[0]}" (see pqlkit --help)`);
  required(args, ['rules', 'events', 'conversions']);
  const horizon = parseDuration(args.horizon ?? '30d', '--horizon');
  let end;
  if (args.end !== undefined) {
    end = parseTime(args.end);
    if (!Number.isFinite(end)) throw new CliError(`--end: "${args.end}" is not a timestamp (ms or ISO 8601)`);
  }
  let threads;
  if (args.threads !== undefined) {
    threads = Number(args.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CliError('--threads must be an integer from 1 to 64');
  }
  const engine = args.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'duckdb') throw new CliError(`--engine must be wasm or duckdb, not "${engine}"`);
  // DuckDB validates through the SQL builder, which also reads account-level signals.
  const { text, errors } = engine === 'duckdb' ? sqlErrors(args.rules) : compile(args.rules);
  if (errors.length) {
    printErrors(args.rules, errors, process.stderr);
    return 1;
  }
  const rules = JSON.parse(text);
  const conversions = readConversions(args.conversions);
  const format = args.format ?? 'pqlkit';
  if (!FORMATS.includes(format)) throw new CliError(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
  let eventsPath = args.events;
  const scratch = format === 'pqlkit' ? null : mkdtempSync(join(tmpdir(), 'pqlkit-history-'));
  let report;
  try {
    if (scratch) {
      eventsPath = join(scratch, 'events.ndjson');
      await convertHistory(args.events, format, eventsPath);
    }
    report = await backtest({ rulesJson: text, rules, eventsPath, conversions, horizon, end, threads, engine, memoryLimit: args['memory-limit'] });
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  const { events, seconds, eventsPerSecond } = report.throughput;
  const speed = `throughput: ${events.toLocaleString('en-US')} events in ${seconds.toFixed(2)} s = ${(eventsPerSecond ?? 0).toLocaleString('en-US')} events/s\n`;
  if (args.json) {
    process.stdout.write(JSON.stringify(report, (k, v) => (v === Infinity ? null : v), 2) + '\n');
    process.stderr.write(speed);
  } else {
    process.stdout.write(renderBacktest(report, args.rules) + '\n\n' + speed);
  }
  return 0;
}

async function sqlCommand(argv) {
  const args = parseArgs(argv, { rules: 'value', dialect: 'value', 'events-table': 'value', 'conversions-table': 'value', 'as-of': 'value' });
  if (args._.length) throw new CliError(`unexpected argument "${args._[0]}" (see pqlkit --help)`);
  required(args, ['rules', 'dialect']);
  if (!DIALECTS.includes(args.dialect)) throw new CliError(`--dialect must be one of ${DIALECTS.join(', ')}, not "${args.dialect}"`);
  let asOf;
  if (args['as-of'] !== undefined) {
    asOf = parseTime(args['as-of']);
    if (!Number.isFinite(asOf)) throw new CliError(`--as-of: "${args['as-of']}" is not a timestamp (ms or ISO 8601)`);
  }
  const text = readText(args.rules, 'rules');
  const built = buildSql(text, args.dialect, { events: args['events-table'], conversions: args['conversions-table'], asOf });
  if (built.errors) {
    printErrors(args.rules, built.errors, process.stderr);
    return 1;
  }
  process.stdout.write(built.sql);
  return 0;
}

async function simulateCommand(argv) {
  const args = parseArgs(argv, { users: 'value', days: 'value', seed: 'value', out: 'value' });
  if (args._.length) throw new CliError(`unexpected argument "${args._[0]}" (see pqlkit --help)`);
  required(args, ['users', 'days', 'seed']);
  const users = Number(args.users);
  const days = Number(args.days);
  if (!Number.isInteger(users) || users < 1) throw new CliError('--users must be a positive integer');
  if (!Number.isInteger(days) || days < 1) throw new CliError('--days must be a positive integer');
  const dir = args.out ?? '.';
  let fd;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(join(dir, 'events.ndjson'), 'w');
  } catch (error) {
    throw new CliError(`cannot write to ${dir}: ${error.code ?? error.message}`);
  }
  let result;
  try {
    result = simulate({ users, days, seed: args.seed }, (chunk) => writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'conversions.csv'), result.conversions);
  writeFileSync(join(dir, 'rules.json'), result.rules);
  const s = result.summary;
  process.stdout.write(
    `wrote ${join(dir, 'events.ndjson')} (${s.events.toLocaleString('en-US')} events, ${s.users} users, ${s.accounts} accounts, ${s.from.slice(0, 10)} → ${s.to.slice(0, 10)}), ` +
      `${join(dir, 'conversions.csv')} (${s.converters} converters; ${s.integrators} integrators, ${s.themers} theme tinkerers), ${join(dir, 'rules.json')}\n`,
  );
  return 0;
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    const { readFileSync } = await import('node:fs');
    process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
    return 0;
  }
  const commands = { validate: validateCommand, backtest: backtestCommand, sql: sqlCommand, simulate: simulateCommand };
  if (!(command in commands)) throw new CliError(`unknown command "${command}" (see pqlkit --help)`);
  if (command !== 'simulate') loadCliWasm();
  return commands[command](rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof CliError) {
      process.stderr.write(`pqlkit: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`pqlkit: internal error: ${error?.stack ?? error}\n`);
      process.exitCode = 1;
    }
  },
);

