// `pqlkit backtest`: replays an event history through the same wasm engine the browser runs,
// one engine per user, and measures each rule (and the score threshold) against conversions.
//
// Event history format (NDJSON, one JSON object per line, plain or gzip):
//   {"timestamp": 1736150400000 | "2025-01-06T08:00:00Z", "userId": "u1", "accountId": "acme"?,
//    "event": "feature_used", "props": {"feature": "export"}?}
//   {"type": "identify", "userId": "u1", "traits": {"plan": "trial"}, "timestamp"?}
//   {"type": "group", "userId": "u1", "accountId": "acme", "traits": {"company_size": 40}, "timestamp"?}
// Each user's lines are replayed in time order (stable: equal times keep file order; identify /
// group lines without a timestamp apply before that user's first event). Fastest when the file
// is grouped by userId (every user's lines contiguous, as `pqlkit simulate` writes them): it is
// then streamed and only one user's lines are in memory. Otherwise it is split into temporary
// partition files by a hash of userId and each partition is replayed in memory.
//
// Definitions (documented in `pqlkit --help`):
// - A user is replayed from their first event until their conversion (inclusive; a customer is
//   no longer a lead), then time-driven checks run on to the "tail end": --end if given, else
//   the later of the user's last event and the latest conversion in the CSV (capped by the
//   conversion). Users whose conversion precedes their first event are left out.
// - flagged by a rule: the first `qualified` effect with reason "rule" for it; by the score: the
//   first with reason "score". Positive outcome: converted within the horizon H of the flag
//   (flagged) or of first seen (not flagged).
// - precision = positives among flagged / flagged; lift = precision / conversion rate of the not
//   flagged; recall = flagged positives / all positives.
import { mkdtempSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Core } from '../wasm/pqlkit.js';
import { DAY, CliError, lines, parseTime } from './input.js';

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

class Unsorted extends Error {}

/** Replays users one at a time; collects one small record per user. */
class Replayer {
  constructor(rulesJson, ruleIds, { scoreFromCore, end, conversions }) {
    this.rulesJson = rulesJson;
    this.ruleIndex = new Map(ruleIds.map((id, i) => [id, i]));
    this.nRules = ruleIds.length;
    this.scoreFromCore = scoreFromCore;
    this.end = end;
    this.conversions = conversions;
    this.users = [];
    this.events = 0;
    this.skippedAfterConversion = 0;
    this.convertedBeforeFirstEvent = 0;
    this.excluded = new Set();
    this.minTime = Infinity;
    this.maxTime = -Infinity;
    this.seed = 1;
  }

  /** `items`: the user's parsed lines, each with a numeric `t` (NaN for untimed identify/group). */
  replay(userId, items) {
    for (let i = 0; i < items.length; i++) items[i].i = i;
    const key = (x) => (x.t === x.t ? x.t : -Infinity); // untimed identify / group first
    items.sort((a, b) => key(a) - key(b) || a.i - b.i);
    const conv = this.conversions.users.get(userId);
    const cutoff = conv ?? Infinity;
    let first = NaN;
    let last = NaN;
    for (const it of items) {
      if (it.event !== undefined && it.t <= cutoff) {
        if (first !== first) first = it.t;
        last = it.t;
      }
    }
    let account = this.conversions.userAccounts.get(userId);
    if (first !== first) {
      if (conv !== undefined && items.some((it) => it.event !== undefined)) {
        this.convertedBeforeFirstEvent++;
        this.excluded.add(userId);
      }
      return;
    }
    const record = { userId, accountId: account, firstSeen: first, conv, fires: new Float64Array(this.nRules).fill(NaN), scoreAt: NaN, records: [] };
    // One compiled engine for the whole run: reset between users keeps the rules compiled.
    this.core ??= new Core(this.rulesJson, 'backtest', 1);
    const core = this.core;
    core.reset(userId);
    let score = 0;
    let lastAdvance = -Infinity;
    const handle = (out) => {
      if (out.length > 2) {
        for (const { type, payload } of JSON.parse(out)) {
          if (type !== 'qualified') continue;
          note(payload.timestamp, payload.reason === 'rule' ? this.ruleIndex.get(payload.rule) : -1, payload.score);
        }
      }
    };
    const note = (t, r, s) => {
      if (r === undefined) return;
      if (r >= 0) {
        if (record.fires[r] !== record.fires[r]) record.fires[r] = t;
      } else if (record.scoreAt !== record.scoreAt) record.scoreAt = t;
      if (!this.scoreFromCore && s > score) {
        score = s;
        record.records.push(t, score);
      }
    };
    const scoreCheck = (t) => {
      const s = JSON.parse(core.score()).score;
      if (s > score) {
        score = s;
        record.records.push(t, s);
      }
    };
    // Events go to the engine in batches (one call per run of events between identify / group
    // lines); the per-event path remains for rule sets whose score must be read after each call.
    let batch = [];
    const replay = (until) => {
      if (batch.length === 0 && until < 0) return;
      for (const [t, r, s] of JSON.parse(core.replay(JSON.stringify(batch), until))) note(t, r, s);
      batch = [];
    };
    const runDeadlines = (until) => {
      if (!this.scoreFromCore) return replay(until);
      let d = core.nextDeadline();
      while (d >= 0 && d <= until && d > lastAdvance) {
        lastAdvance = d;
        handle(core.advance(d));
        scoreCheck(d);
        d = core.nextDeadline();
      }
    };
    let currentAccount;
    handle(core.identify(userId, '{}', first));
    for (const it of items) {
      const t = it.t === it.t ? Math.max(it.t, first) : first;
      if (t > cutoff) {
        if (it.event !== undefined) this.skippedAfterConversion++;
        continue;
      }
      if (it.event === undefined) {
        runDeadlines(t);
        if (it.type === 'identify') handle(core.identify(userId, JSON.stringify(it.traits ?? {}), t));
        else {
          currentAccount = it.accountId ?? currentAccount;
          if (it.accountId) account = it.accountId;
          handle(core.group(it.accountId ?? undefined, JSON.stringify(it.traits ?? {}), t));
        }
      } else {
        if (it.accountId && it.accountId !== currentAccount) {
          currentAccount = account = it.accountId;
          runDeadlines(t);
          handle(core.group(it.accountId, '{}', t));
        }
        this.events++;
        if (this.scoreFromCore) {
          runDeadlines(t);
          handle(core.track(it.event, it.props === undefined ? '{}' : JSON.stringify(it.props), t));
        } else {
          batch.push([t, it.event, it.props ?? {}]);
        }
      }
      if (this.scoreFromCore) scoreCheck(t);
    }
    const tail = Math.min(this.end ?? Math.max(last, this.conversions.latest), cutoff);
    runDeadlines(tail);
    record.accountId = account;
    if (first < this.minTime) this.minTime = first;
    if (last > this.maxTime) this.maxTime = last;
    this.users.push(record);
  }
}

function parseLine(line, where) {
  let o;
  try {
    o = JSON.parse(line);
  } catch (error) {
    throw new CliError(`${where}: not JSON (${error.message})`, 1);
  }
  if (o === null || typeof o !== 'object' || typeof o.userId !== 'string' || o.userId === '') {
    throw new CliError(`${where}: each line needs a string "userId"`, 1);
  }
  const t = o.timestamp === undefined ? NaN : parseTime(o.timestamp);
  if (o.type === 'identify' || o.type === 'group') {
    if (o.timestamp !== undefined && t !== t) throw new CliError(`${where}: "timestamp" ${JSON.stringify(o.timestamp)} is not ms or ISO 8601`, 1);
    if (o.type === 'group' && (typeof o.accountId !== 'string' || o.accountId === '')) throw new CliError(`${where}: a group line needs a string "accountId"`, 1);
    return { t, type: o.type, userId: o.userId, accountId: o.accountId, traits: o.traits, event: undefined };
  }
  if (typeof o.event !== 'string' || o.event === '') throw new CliError(`${where}: an event line needs a string "event" (or "type": "identify" / "group")`, 1);
  if (t !== t) throw new CliError(`${where}: "timestamp" ${JSON.stringify(o.timestamp)} is not ms or ISO 8601`, 1);
  return { t, userId: o.userId, accountId: typeof o.accountId === 'string' && o.accountId !== '' ? o.accountId : undefined, event: o.event, props: o.props };
}

/** Streams a file grouped by user; throws `Unsorted` when a finished user comes back. */
async function replayGrouped(path, replayer) {
  const done = new Set();
  let current = null;
  let items = [];
  let n = 0;
  for await (const line of lines(path)) {
    n++;
    if (line.length === 0 || line.trim() === '') continue;
    const it = parseLine(line, `${path}:${n}`);
    if (it.userId !== current) {
      if (current !== null) {
        replayer.replay(current, items);
        done.add(current);
      }
      if (done.has(it.userId)) throw new Unsorted();
      current = it.userId;
      items = [];
    }
    items.push(it);
  }
  if (current !== null) replayer.replay(current, items);
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Unsorted files: split into partitions by user, then replay each partition in memory. */
async function replayPartitioned(path, replayer, partitions = 64) {
  const dir = mkdtempSync(join(tmpdir(), 'pqlkit-backtest-'));
  try {
    const buffers = Array.from({ length: partitions }, () => []);
    const sizes = new Array(partitions).fill(0);
    const flush = (p) => {
      appendFileSync(join(dir, String(p)), buffers[p].join(''));
      buffers[p] = [];
      sizes[p] = 0;
    };
    let n = 0;
    for await (const line of lines(path)) {
      n++;
      if (line.trim() === '') continue;
      const it = parseLine(line, `${path}:${n}`); // validates; the line itself is stored
      const p = hash(it.userId) % partitions;
      buffers[p].push(line, '\n');
      sizes[p] += line.length;
      if (sizes[p] > 1 << 20) flush(p);
    }
    for (let p = 0; p < partitions; p++) if (sizes[p] > 0) flush(p);
    for (let p = 0; p < partitions; p++) {
      let text;
      try {
        text = readFileSync(join(dir, String(p)), 'utf8');
      } catch {
        continue;
      }
      const byUser = new Map();
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const it = parseLine(line, path);
        let list = byUser.get(it.userId);
        if (!list) byUser.set(it.userId, (list = []));
        list.push(it);
      }
      text = null;
      for (const userId of [...byUser.keys()].sort()) replayer.replay(userId, byUser.get(userId));
    }
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

/** Runs the whole backtest. */
export async function backtest({ rulesJson, rules, eventsPath, conversions, horizon, end }) {
  const ruleIds = rules.rules.map((r) => r.id);
  // The score can rise without a `qualified` effect when a rule with a trigger starts to hold,
  // or a rule with a negative score stops holding; then read it from the core after each call.
  const scoreFromCore = rules.rules.some((r) => (r.trigger && (r.score ?? 0) > 0) || (r.score ?? 0) < 0);
  const started = process.hrtime.bigint();
  let replayer = new Replayer(rulesJson, ruleIds, { scoreFromCore, end, conversions });
  let grouped = true;
  try {
    await replayGrouped(eventsPath, replayer);
  } catch (error) {
    if (!(error instanceof Unsorted)) throw error;
    grouped = false;
    replayer = new Replayer(rulesJson, ruleIds, { scoreFromCore, end, conversions });
    await replayPartitioned(eventsPath, replayer);
  }
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
      usersConvertedBeforeFirstEvent: replayer.convertedBeforeFirstEvent,
      conversionsWithoutEvents: [...conversions.users.keys()].filter((id) => !seenUsers.has(id) && !replayer.excluded.has(id)).length,
    },
    horizonDays: horizon / DAY,
    rules: ruleReports,
    score: scoreReport,
    sweep,
    throughput: { events: replayer.events, seconds, eventsPerSecond: seconds > 0 ? Math.round(replayer.events / seconds) : null },
  };
}
