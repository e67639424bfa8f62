// `pqlkit backtest`: replays an event history through the same engine the browser runs (the
// crate built with its backtest driver, js/wasm-cli; parsing and replay are in src/history.rs),
// one engine per thread reset for each user, and measures each rule (and the score threshold)
// against conversions.
//
// Event history format (NDJSON, one JSON object per line, plain or gzip):
//   {"timestamp": 1736150400000 | "2025-01-06T08:00:00Z", "userId": "u1", "accountId": "acme"?,
//    "event": "feature_used", "props": {"feature": "export"}?}
//   {"type": "identify", "userId": "u1", "traits": {"plan": "trial"}, "timestamp"?}
//   {"type": "group", "userId": "u1", "accountId": "acme", "traits": {"company_size": 40}, "timestamp"?}
// Each user's lines are replayed in time order (stable: equal times keep file order; identify /
// group lines without a timestamp apply before that user's first event). Fastest when the file
// is grouped by userId (every user's lines contiguous, as `pqlkit simulate` writes them): it is
// then streamed in pieces of whole users, replayed in parallel, one user's lines at a time in
// memory per thread. Otherwise it is split into temporary partition files by a hash of userId
// and each partition is replayed in memory.
//
// Definitions (documented in `pqlkit --help`):
// - A user is replayed from their first event until their conversion (inclusive; a customer is
//   no longer a lead), then time-driven checks run on to the "tail end": --end if given, else
//   the later of the user's last event and the latest conversion in the CSV (capped by the
//   conversion). Users whose conversion precedes their first event are left out.
// - flagged by a rule: its first firing (a `qualified` effect of the core with reason "rule",
//   the facade's `rule:fired`); by the score: the
//   first with reason "score". Positive outcome: converted within the horizon H of the flag
//   (flagged) or of first seen (not flagged).
// - precision = positives among flagged / flagged; lift = precision / conversion rate of the not
//   flagged; recall = flagged positives / all positives.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DAY, CliError, byteChunks } from './input.js';
import { Backtest, lastUserStart, loadCliWasm, partitionLines } from './wasm.js';

export const VERDICT = {
  tightRecall: 0.05, // too tight: flags fewer than 5 % of the users who convert
  tightLeadDays: 1, // too tight: median flagged → converted under 1 day (sales has < 24 h)
  looseShare: 0.5, // too loose: flags at least half of all users ...
  looseLift: 2, // ... with a precision under 2 × the baseline conversion rate
  signalLift: 1.25, // no signal: lift under 1.25
};

const WEEK = 7 * DAY;
const MONDAY_OFFSET = 4 * DAY; // 1970-01-01 was a Thursday
const weekStart = (t) => Math.floor((t - MONDAY_OFFSET) / WEEK) * WEEK + MONDAY_OFFSET;

/** Bytes of history per piece handed to a thread: whole users, about this size. */
const PIECE = 4 << 20;
/** The end of a piece searched for where its last user starts. */
const CUT_WINDOW = 256 << 10;
const NEWLINE = 10;

class Unsorted extends Error {}

/**
 * Replays pieces of the history on worker threads, each with its own engine (src/history.rs
 * does the parsing and the replay), or on this thread when `threads` is 1. Results are read
 * back in the order the pieces were given.
 */
class Replayers {
  constructor(threads, init) {
    this.queue = [];
    this.limit = 4 * threads; // pieces in flight: enough to keep every thread busy
    if (threads <= 1) {
      const backtest = new Backtest(init.rulesJson, init.conversionsJson, init.end);
      this.run = async (bytes, grouped) => backtest.replay(bytes, 1, grouped);
      this.close = () => backtest.free();
      return;
    }
    const waiting = new Map();
    let nextId = 0;
    const workers = Array.from({ length: threads }, () => {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
      worker.busy = 0;
      worker.on('message', ({ id, result }) => {
        worker.busy--;
        waiting.get(id).resolve(result);
        waiting.delete(id);
      });
      worker.on('error', (error) => {
        for (const { reject } of waiting.values()) reject(error);
        waiting.clear();
      });
      return worker;
    });
    this.run = (bytes, grouped) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        const worker = workers.reduce((a, b) => (b.busy < a.busy ? b : a));
        worker.busy++;
        // Moved, not copied, when the piece starts a buffer of its own (see ownBuffer).
        const piece = movable.has(bytes.buffer) && bytes.byteOffset === 0 ? bytes : new Uint8Array(bytes);
        worker.postMessage({ id, buffer: piece.buffer, length: piece.length, grouped }, [piece.buffer]);
      });
    this.close = () => Promise.all(workers.map((w) => w.terminate()));
  }

  /** Hands a piece on; once enough are in flight, waits for the oldest and passes it to `take`. */
  async submit(bytes, grouped, take) {
    this.queue.push(this.run(bytes, grouped));
    while (this.queue.length >= this.limit) take(await this.queue.shift());
  }

  async drain(take) {
    while (this.queue.length) take(await this.queue.shift());
  }
}

/** Collects the per-user records the engine threads return. */
class Results {
  constructor(path) {
    this.path = path;
    this.users = [];
    this.seen = new Set();
    this.events = 0;
    this.skippedAfterConversion = 0;
    this.excluded = new Set();
    this.minTime = Infinity;
    this.maxTime = -Infinity;
    this.lineNumbers = true;
    this.lines = 0;
  }

  take(json) {
    const r = JSON.parse(json);
    if (r.unsorted) throw new Unsorted();
    if (r.failure) throw new CliError(`backtest failed in the engine: ${r.failure}`, 1);
    if (r.error) {
      // Pieces number their lines from 1; the lines of the pieces before make it the file's.
      const where = this.lineNumbers ? `${this.path}:${this.lines + r.error.line}` : this.path;
      throw new CliError(`${where}: ${r.error.message}`, 1);
    }
    this.lines += r.lines;
    for (const id of r.seen) {
      if (this.seen.has(id)) throw new Unsorted();
      this.seen.add(id);
    }
    this.events += r.events;
    this.skippedAfterConversion += r.eventsAfterConversion;
    for (const id of r.convertedBeforeFirstEvent) this.excluded.add(id);
    for (const u of r.users) {
      this.users.push({
        userId: u.userId,
        accountId: u.accountId ?? undefined,
        firstSeen: u.firstSeen,
        conv: u.conversion ?? undefined,
        fires: u.fires.map((t) => t ?? NaN),
        scoreAt: u.scoreReached ?? NaN,
        records: u.rises,
      });
      if (u.firstSeen < this.minTime) this.minTime = u.firstSeen;
      if (u.lastSeen > this.maxTime) this.maxTime = u.lastSeen;
    }
  }
}

/** Buffers made by ownBuffer: never Node's shared pool, so they can be moved to a thread. */
const movable = new WeakSet();

/** `carry` then `chunk`, in a buffer of their own. */
function ownBuffer(carry, chunk) {
  const buffer = new ArrayBuffer((carry?.length ?? 0) + chunk.length);
  const out = Buffer.from(buffer);
  if (carry) out.set(carry, 0);
  out.set(chunk, carry?.length ?? 0);
  movable.add(buffer);
  return out;
}

/**
 * A history grouped by user: cut into pieces at user boundaries, replayed in parallel. Throws
 * `Unsorted` when a user's lines turn up in two pieces.
 */
async function replayGrouped(path, replayers, results) {
  const take = (json) => results.take(json);
  const submit = (piece) => replayers.submit(piece, true, take);
  let carry = null;
  for await (const chunk of byteChunks(path, PIECE)) {
    const data = ownBuffer(carry, chunk);
    const window = data.length > CUT_WINDOW ? data.indexOf(NEWLINE, data.length - CUT_WINDOW) + 1 : 0;
    const offset = lastUserStart(data.subarray(window));
    const cut = offset < 0 ? 0 : window + offset;
    if (cut === 0) {
      carry = data; // one user so far: read on
      continue;
    }
    carry = Buffer.from(data.subarray(cut)); // copied out: the piece's buffer moves to a thread
    await submit(data.subarray(0, cut));
  }
  if (carry && carry.length) await submit(carry);
  await replayers.drain(take);
}

/** Any other history: split into partition files by user, then each partition replayed whole. */
async function replayPartitioned(path, replayers, results, partitions = 64) {
  const dir = mkdtempSync(join(tmpdir(), 'pqlkit-backtest-'));
  try {
    const buffers = Array.from({ length: partitions }, () => []);
    const sizes = new Array(partitions).fill(0);
    const flush = (p) => {
      appendFileSync(join(dir, String(p)), Buffer.concat(buffers[p]));
      buffers[p] = [];
      sizes[p] = 0;
    };
    let line = 1;
    const route = (data) => {
      let parts;
      try {
        parts = partitionLines(data, line, partitions);
      } catch (thrown) {
        const { error } = JSON.parse(thrown);
        throw new CliError(`${path}:${error.line}: ${error.message}`, 1);
      }
      let start = 0;
      for (let k = 0; k < parts.length - 1; k++) {
        const end = data.indexOf(NEWLINE, start) + 1;
        const p = parts[k];
        if (p !== 0xffffffff) {
          buffers[p].push(data.subarray(start, end));
          sizes[p] += end - start;
          if (sizes[p] > 1 << 20) flush(p);
        }
        start = end;
      }
      line += parts.length - 1;
    };
    let carry = null;
    for await (const chunk of byteChunks(path, PIECE)) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const end = data.lastIndexOf(NEWLINE) + 1;
      route(data.subarray(0, end));
      carry = data.subarray(end);
    }
    if (carry && carry.length) route(Buffer.concat([carry, Buffer.from('\n')]));
    for (let p = 0; p < partitions; p++) if (sizes[p] > 0) flush(p);
    results.lineNumbers = false; // every line was read above; partition files have their own numbering
    const take = (json) => results.take(json);
    for (let p = 0; p < partitions; p++) {
      let bytes;
      try {
        bytes = readFileSync(join(dir, String(p)));
      } catch {
        continue;
      }
      await replayers.submit(bytes, false, take);
    }
    await replayers.drain(take);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const m = values.length >> 1;
  return values.length % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
};

/**
 * The figures of one flag over a population. `entities`: `{ firstSeen, conv }`; `flagAt(e, i)`:
 * when it was flagged (NaN = never; flags after the conversion do not count).
 */
export function measure(entities, flagAt, horizon, weeks) {
  let n = 0, flagged = 0, tp = 0, positives = 0, convertedFlagged = 0;
  const toFlag = [];
  const toConv = [];
  const weekly = new Map(weeks.map((w) => [w, 0]));
  entities.forEach((e, i) => {
    n++;
    let f = flagAt(e, i);
    if (f === f && e.conv !== undefined && f > e.conv) f = NaN;
    const isFlagged = f === f;
    const from = isFlagged ? f : e.firstSeen;
    const positive = e.conv !== undefined && e.conv >= from && e.conv <= from + horizon;
    if (positive) positives++;
    if (!isFlagged) return;
    flagged++;
    if (positive) tp++;
    toFlag.push((f - e.firstSeen) / DAY);
    if (e.conv !== undefined) {
      convertedFlagged++;
      toConv.push((e.conv - f) / DAY);
    }
    const w = weekStart(f);
    weekly.set(w, (weekly.get(w) ?? 0) + 1);
  });
  const notFlagged = n - flagged;
  const precision = flagged ? tp / flagged : null;
  const rateNot = notFlagged ? (positives - tp) / notFlagged : null;
  let lift = null;
  if (precision !== null && rateNot !== null) lift = rateNot > 0 ? precision / rateNot : precision > 0 ? Infinity : null;
  return {
    entities: n,
    flagged,
    share: n ? flagged / n : null,
    flaggedPerWeek: weeks.length ? flagged / weeks.length : null,
    weekly: [...weekly].sort((a, b) => a[0] - b[0]).map(([w, c]) => ({ week: new Date(w).toISOString().slice(0, 10), flagged: c })),
    converted: positives,
    baseline: n ? positives / n : null,
    convertedFlagged: tp,
    conversionFlagged: precision,
    conversionNotFlagged: rateNot,
    lift,
    precision,
    recall: positives ? tp / positives : null,
    medianDaysToFlag: median(toFlag),
    medianDaysFlagToConversion: median(toConv),
    flaggedThenConverted: convertedFlagged,
  };
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const fmtLift = (x) => (x === Infinity ? '∞' : x.toFixed(2));

/** The verdict on a flag, from its user-level figures; first matching rule wins. */
export function verdict(s) {
  const V = VERDICT;
  if (s.converted === 0) return { verdict: 'no signal', reason: 'no conversion within the horizon: nothing to calibrate against' };
  if (s.flagged === 0) return { verdict: 'too tight', reason: 'flags nobody' };
  if (s.recall < V.tightRecall) return { verdict: 'too tight', reason: `recall ${pct(s.recall)} < ${pct(V.tightRecall)}: misses almost every converter` };
  if (s.medianDaysFlagToConversion !== null && s.medianDaysFlagToConversion < V.tightLeadDays) {
    return { verdict: 'too tight', reason: `median flagged → converted ${s.medianDaysFlagToConversion.toFixed(2)} d < ${V.tightLeadDays} d: flags users at the moment they convert anyway` };
  }
  if (s.share >= V.looseShare && s.precision < V.looseLift * s.baseline) {
    return {
      verdict: 'too loose',
      reason: `flags ${pct(s.share)} of users (≥ ${pct(V.looseShare)}) at precision ${pct(s.precision)} < ${V.looseLift} × baseline ${pct(s.baseline)}: would flood sales`,
    };
  }
  if (s.lift === null || s.lift < V.signalLift) {
    return { verdict: 'no signal', reason: `lift ${s.lift === null ? 'n/a' : fmtLift(s.lift)} < ${V.signalLift}: flagged users convert no more than the others` };
  }
  return { verdict: 'ok', reason: `lift ${fmtLift(s.lift)}, precision ${pct(s.precision)}, recall ${pct(s.recall)}, median lead ${s.medianDaysFlagToConversion === null ? 'n/a' : s.medianDaysFlagToConversion.toFixed(1) + ' d'}` };
}

/** Candidate thresholds for the sweep: distinct positive max scores (at most 40, by quantile) plus the configured one. */
function candidates(users, configured) {
  const values = [...new Set(users.map((u) => (u.records.length ? u.records[u.records.length - 1] : 0)).filter((s) => s > 0))].sort((a, b) => a - b);
  let picked = values;
  if (values.length > 40) picked = [...new Set(Array.from({ length: 40 }, (_, i) => values[Math.round((i * (values.length - 1)) / 39)]))];
  if (configured != null && !picked.includes(configured)) picked.push(configured);
  return picked.sort((a, b) => a - b);
}

/** Groups users into accounts: first seen, earliest conversion, earliest flag. */
function accountsOf(users, conversions) {
  const accounts = new Map();
  users.forEach((u, i) => {
    if (!u.accountId) return;
    let a = accounts.get(u.accountId);
    if (!a) accounts.set(u.accountId, (a = { id: u.accountId, firstSeen: u.firstSeen, conv: conversions.accounts.get(u.accountId), members: [] }));
    a.members.push(i);
    if (u.firstSeen < a.firstSeen) a.firstSeen = u.firstSeen;
    if (u.conv !== undefined && !(a.conv <= u.conv)) a.conv = u.conv;
  });
  // An account converted before any of its users was seen is not a lead.
  return [...accounts.values()].filter((a) => a.conv === undefined || a.conv >= a.firstSeen);
}

const minOver = (members, f) => {
  let m = NaN;
  for (const i of members) {
    const v = f(i);
    if (v === v && !(m <= v)) m = v;
  }
  return m;
};

/** Replay threads: one per core (at most 8) for histories worth it, else this thread alone. */
function threadsFor(path, threads) {
  if (threads !== undefined) return threads;
  let size = 0;
  try {
    size = statSync(path).size * (/\.gz$/.test(path) ? 8 : 1);
  } catch {
    // unreadable: byteChunks reports it
  }
  return size < 2 * PIECE ? 1 : Math.min(availableParallelism(), 8);
}

/** Replays the history through the wasm engine: the per-user records and what was read. */
async function wasmReplay({ rulesJson, eventsPath, conversions, end, threads }) {
  const module = loadCliWasm();
  const conversionsJson = JSON.stringify({
    users: Object.fromEntries(conversions.users),
    accounts: Object.fromEntries(conversions.userAccounts),
    latest: Number.isFinite(conversions.latest) ? conversions.latest : null,
  });
  const replayers = new Replayers(threadsFor(eventsPath, threads), { rulesJson, conversionsJson, end: end ?? NaN, module });
  let replayer = new Results(eventsPath);
  let grouped = true;
  try {
    try {
      await replayGrouped(eventsPath, replayers, replayer);
    } catch (error) {
      if (!(error instanceof Unsorted)) throw error;
      grouped = false;
      for (const abandoned of replayers.queue) abandoned.catch(() => {});
      replayers.queue = [];
      replayer = new Results(eventsPath);
      await replayPartitioned(eventsPath, replayers, replayer);
    }
  } finally {
    await replayers.close();
  }
  return { ...replayer, users: replayer.users, grouped };
}

/**
 * Runs the whole backtest: `engine` 'wasm' (the replay, the default) or 'duckdb' (the rule
 * set's SQL, js/cli/duckdb.js). Both give per-user records; the report is computed here.
 */
export async function backtest({ rulesJson, rules, eventsPath, conversions, horizon, end, threads, engine = 'wasm', memoryLimit }) {
  const started = process.hrtime.bigint();
  const replayer =
    engine === 'duckdb'
      ? { ...(await (await import('./duckdb.js')).duckdbReplay({ rulesJson, rules, eventsPath, conversions, end, threads, memoryLimit })), grouped: true }
      : await wasmReplay({ rulesJson, eventsPath, conversions, end, threads });
  const grouped = replayer.grouped;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const users = replayer.users;
  const weeks = [];
  if (users.length) for (let w = weekStart(replayer.minTime); w <= replayer.maxTime; w += WEEK) weeks.push(w);
  const accounts = accountsOf(users, conversions);
  const threshold = rules.scoring?.threshold ?? null;
  const seenUsers = new Set(users.map((u) => u.userId));

  const both = (userFlag) => {
    const user = measure(users, userFlag, horizon, weeks);
    const account = measure(accounts, (a) => minOver(a.members, (i) => userFlag(users[i])), horizon, weeks);
    return { user, account, ...verdict(user) };
  };
  const ruleReports = rules.rules.map((rule, r) => ({ id: rule.id, kind: rule.kind ?? null, score: rule.score ?? 0, ...both((u) => u.fires[r]) }));
  const scoreReport = threshold === null ? null : { threshold, ...both((u) => u.scoreAt) };
  const firstReaching = (u, T) => {
    for (let k = 0; k < u.records.length; k += 2) if (u.records[k + 1] >= T) return u.records[k];
    return NaN;
  };
  const sweep = candidates(users, threshold).map((T) => {
    const s = measure(users, (u) => firstReaching(u, T), horizon, weeks);
    const { weekly, ...rest } = s;
    return { threshold: T, ...rest, ...verdict(s) };
  });
  return {
    data: {
      events: replayer.events,
      users: users.length,
      accounts: accounts.length,
      from: users.length ? new Date(replayer.minTime).toISOString() : null,
      to: users.length ? new Date(replayer.maxTime).toISOString() : null,
      weeks: weeks.length,
      groupedByUser: grouped,
      eventsAfterConversion: replayer.skippedAfterConversion,
      usersConvertedBeforeFirstEvent: replayer.excluded.size,
      conversionsWithoutEvents: [...conversions.users.keys()].filter((id) => !seenUsers.has(id) && !replayer.excluded.has(id)).length,
    },
    horizonDays: horizon / DAY,
    rules: ruleReports,
    score: scoreReport,
    sweep,
    throughput: { events: replayer.events, seconds, eventsPerSecond: seconds > 0 ? Math.round(replayer.events / seconds) : null },
  };
}
