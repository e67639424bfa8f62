// pqlkit browser benchmark (issue 4, part 8). Mirrors tests/bench/engine.rs: the same rule-set
// generator and the same event stream (same xorshift seeds, so the same rules and events as the
// native benchmark), measured through the public API with performance.now().
//
// Phases (all by default, or ?only=init,track,traits,splits,storage,memory):
//   init    — `await init(...)` in ms: the first one (wasm fetch + compile included), then the
//             median of several with storage 'memory' and with 'local' (empty localStorage).
//   track   — `pql.track(name, props)` in µs per call, boundary crossing and the facade included,
//             after a warm-up; the `now` option returns the event's timestamp so windows move.
//             Single calls are timed one by one (p99, max); the median is taken over batches of
//             BATCH calls (per call), since performance.now() ticks in 5 µs steps at best.
//   traits  — an app's loop with changing traits and a read result: every 4th event an
//             identify(null, { plan, seats }) with one changed value, then track() and
//             score().score; µs per step (median over batches of BATCH steps), and a second
//             score() read right after each step (nothing changed in between) on its own.
//   splits  — the same per-call work done step by step on a bare wasm Core, to see where the
//             time goes: writeObject(props), core.advance + JSON.parse, status() +
//             setTimeout, core.track, JSON.parse(effects), status() + setTimeout again,
//             BroadcastChannel.postMessage of the properties' JSON (the facade's tab sync, when
//             another tab listens).
//   storage — 200,000 events with storage 'local' (and a collector with &collector=1), then a `pagehide` event
//             forces the save; the bytes of every `pqlkit:` key in localStorage; then the
//             median `init` restoring that state.
//   first   — (only when asked for) this page's first `init`, storage 'local', as a page
//             runs it once per visit: tests/bench/browser.js loads the page again and again in
//             one browser context, so later visits take the package from the HTTP cache and
//             restore the state the visit before saved. Also how long `import()` of the entry took.
//   memory  — the wasm's linear memory (what the page holds for pqlkit's heap): before a Core,
//             after compiling the rules, and after 200,000 events, on a bare Core of its own.

const DAY = 86_400_000;
const EVENT_NAMES = 50;
const ITEMS = 200;
const DAYS = 60;
const T0 = 19_723 * DAY;
const BATCH = 10;
const STATE_KEY = 'pqlkit:v1:state';

const params = new URLSearchParams(location.search);
const RULES = Number(params.get('rules') ?? 100);
const N = Number(params.get('n') ?? 20_000);
const WARMUP = Number(params.get('warmup') ?? 2_000);
const INITS = Number(params.get('inits') ?? 15);
const STORAGE_EVENTS = Number(params.get('events') ?? 200_000);
const COLLECTOR = params.get('collector') === '1';
const ONLY = new Set((params.get('only') ?? 'init,track,traits,splits,storage,memory').split(','));
const ENTRY = params.get('entry') === 'src' ? '/pqlkit/index.js' : '/pqlkit/pqlkit.min.js';

// ---- the generator of tests/bench/engine.rs, step for step ----

const U64 = (x) => BigInt.asUintN(64, x);

class Rng {
  constructor(seed) {
    this.s = U64(seed);
  }
  next() {
    let s = this.s;
    s ^= s >> 12n;
    s ^= U64(s << 25n);
    s ^= s >> 27n;
    this.s = s;
    return U64(s * 0x2545f4914f6cdd1dn);
  }
  below(n) {
    return Number(this.next() % BigInt(n));
  }
}

function signal(kind, rng) {
  const event = rng.below(EVENT_NAMES);
  const item = rng.below(ITEMS);
  switch (kind % 4) {
    case 0:
      return { event: `e${event}`, where: { item: `v${item}` }, count: { $gte: 3 }, within: '7d' };
    case 1:
      return { event: `e${event}`, distinctDays: { $gte: 3 }, within: '14d' };
    case 2:
      return {
        event: `e${event}`,
        where: { item: { $in: [`v${item}`, `v${(item + 1) % ITEMS}`, `v${(item + 2) % ITEMS}`] } },
        sum: 'amount',
        value: { $gte: 100 },
        within: '30d',
      };
    default:
      return { event: `e${event}`, notFollowedBy: { event: `e${(event + 1) % EVENT_NAMES}` }, within: '1h' };
  }
}

export function ruleSet(size) {
  const rng = new Rng(0x9e3779b97f4a7c15n ^ BigInt(size));
  const rules = [];
  for (let i = 0; i < size; i++) {
    // Every third rule combines two signals (evaluated in this order, as in Rust's format!).
    let when;
    if (i % 3 === 0) {
      const a = signal(i, rng);
      const b = signal(i + 1, rng);
      when = { all: [a, b] };
    } else {
      when = signal(i, rng);
    }
    const rule = { id: `r${i}` };
    if (i % 5 === 0) rule.audience = { plan: { $in: ['free', 'trial'] }, 'account.company_size': { $gte: 10 } };
    if (i % 10 === 9) rule.trigger = { event: `e${rng.below(EVENT_NAMES)}` };
    Object.assign(rule, {
      when,
      score: 10,
      priority: i % 7,
      actions: [i % 2 === 0 ? { prompt: 'p' } : { beacon: 'intent' }],
      frequency: { cooldown: '1d' },
    });
    rules.push(rule);
  }
  return {
    version: 1,
    rules,
    prompts: { p: { style: 'toast', title: 'Hi' } },
    scoring: { threshold: 60, tiers: { warm: 30, hot: 60 } },
    onQualified: [{ beacon: 'pql' }],
    limits: { maxPerSession: 1, maxPerDay: 2, minInterval: '1h' },
  };
}

/** The native benchmark's 200,000 events over 60 days; the first `count` of them. */
export function events(count) {
  const rng = new Rng(0xdeadbeefcafef00dn);
  const step = Math.trunc((DAYS * DAY) / 200_000);
  const out = new Array(count);
  let t = T0;
  for (let i = 0; i < count; i++) {
    t += i % 500 === 499 ? Math.trunc(step / 2) : step;
    const name = `e${rng.below(EVENT_NAMES)}`;
    const item = `v${rng.below(ITEMS)}`;
    const amount = rng.below(50);
    out[i] = { name, props: { item, amount }, t };
  }
  return out;
}

// ---- helpers ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function stats(values) {
  const s = Float64Array.from(values).sort();
  const sum = s.reduce((a, b) => a + b, 0);
  return { median: quantile(s, 0.5), p99: quantile(s, 0.99), min: s[0], max: s[s.length - 1], mean: sum / s.length, n: s.length };
}

/** The smallest step performance.now() takes here, in µs. */
function clockResolutionUs() {
  let smallest = Infinity;
  let a = performance.now();
  for (let i = 0, seen = 0; i < 1e6 && seen < 200; i++) {
    const b = performance.now();
    if (b !== a) {
      smallest = Math.min(smallest, b - a);
      seen += 1;
      a = b;
    }
  }
  return round(smallest * 1000, 3);
}

const USER = { id: 'u1', traits: { plan: 'free' } };
const ACCOUNT = { id: 'acme', traits: { company_size: 50 } };

function options(rules, clock, extra = {}) {
  return { rules, ui: 'none', autocapture: false, user: USER, account: ACCOUNT, now: () => clock.t, ...extra };
}

function status(text) {
  document.getElementById('status').textContent = text;
}

// ---- phases ----

async function measureInit(pqlkit, rules, results) {
  const clock = { t: T0 };
  const once = async (storage) => {
    const start = performance.now();
    const pql = await pqlkit.init(options(rules, clock, { storage }));
    const ms = performance.now() - start;
    pql.destroy();
    return ms;
  };
  localStorage.clear();
  const first = await once('memory'); // loads the wasm (fetch + compile + instantiate)
  const memory = [];
  const local = [];
  for (let i = 0; i < INITS; i++) {
    memory.push(await once('memory'));
    localStorage.clear();
    local.push(await once('local'));
    await sleep(0);
  }
  localStorage.clear();
  const m = stats(memory);
  const l = stats(local);
  results.init = {
    rulesJsonBytes: JSON.stringify(rules).length,
    firstMs: round(first),
    memory: { medianMs: round(m.median), minMs: round(m.min), maxMs: round(m.max), runs: m.n },
    local: { medianMs: round(l.median), minMs: round(l.min), maxMs: round(l.max), runs: l.n, note: 'empty localStorage' },
  };
}

async function measureFirst(pqlkit, rules, results) {
  const restoring = localStorage.getItem(STATE_KEY) !== null;
  const start = performance.now();
  const pql = await pqlkit.init(options(rules, { t: T0 }, { storage: 'local' }));
  const initMs = performance.now() - start;
  pql.featureUsed('export');
  pql.destroy(); // saves the state, for the next visit
  results.first = { initMs: round(initMs), restoring };
}

async function measureTrack(pqlkit, rules, results) {
  localStorage.clear();
  const evs = events(WARMUP + 2 * N);
  const clock = { t: evs[0].t };
  const pql = await pqlkit.init(options(rules, clock, { storage: 'local' }));
  const counts = { qualified: 0, prompt: 0, beacon: 0, error: 0 };
  for (const name of Object.keys(counts)) pql.on(name, () => (counts[name] += 1));
  await sleep(50); // the tab-leader lock is granted asynchronously

  for (let i = 0; i < WARMUP; i++) {
    const e = evs[i];
    clock.t = e.t;
    pql.track(e.name, e.props);
  }

  // Single calls, one timing each: the tail (p99, max).
  const single = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const e = evs[WARMUP + i];
    clock.t = e.t;
    const start = performance.now();
    pql.track(e.name, e.props);
    single[i] = performance.now() - start;
  }
  // Batches of BATCH calls: the median per call at a resolution the clock can give.
  const batches = new Float64Array(Math.floor(N / BATCH));
  let total = 0;
  for (let b = 0; b < batches.length; b++) {
    const base = WARMUP + N + b * BATCH;
    const start = performance.now();
    for (let k = 0; k < BATCH; k++) {
      const e = evs[base + k];
      clock.t = e.t;
      pql.track(e.name, e.props);
    }
    const elapsed = performance.now() - start;
    batches[b] = elapsed / BATCH;
    total += elapsed;
  }
  pql.destroy();
  localStorage.clear();
  const s = stats(single);
  const b = stats(batches);
  const us = (ms) => round(ms * 1000, 2);
  results.track = {
    calls: N,
    warmup: WARMUP,
    storage: 'local',
    medianUs: us(b.median),
    meanUs: us(total / (batches.length * BATCH)),
    p99Us: us(s.p99),
    maxUs: us(s.max),
    singleMedianUs: us(s.median),
    singleMeanUs: us(s.mean),
    batchP99Us: us(b.p99),
    effects: counts,
    simulatedDays: round((evs[evs.length - 1].t - evs[0].t) / DAY, 1),
  };
}

async function measureTraits(pqlkit, rules, results) {
  const evs = events(WARMUP + N);
  const clock = { t: evs[0].t };
  const pql = await pqlkit.init(options(rules, clock, { storage: 'memory' }));
  const PLANS = ['free', 'trial', 'free', 'team'];
  let sum = 0;
  const step = (i) => {
    const e = evs[i];
    clock.t = e.t;
    if (i % 4 === 0) pql.identify(null, i % 8 === 0 ? { plan: PLANS[(i >> 3) % 4] } : { seats: (i >> 2) % 13 });
    pql.track(e.name, e.props);
    sum += pql.score().score;
  };
  for (let i = 0; i < WARMUP; i++) step(i);
  const batches = new Float64Array(Math.floor(N / BATCH));
  const reads = new Float64Array(batches.length);
  for (let b = 0; b < batches.length; b++) {
    const base = WARMUP + b * BATCH;
    let start = performance.now();
    for (let k = 0; k < BATCH; k++) step(base + k);
    batches[b] = (performance.now() - start) / BATCH;
    start = performance.now();
    for (let k = 0; k < BATCH; k++) sum += pql.score().score;
    reads[b] = (performance.now() - start) / BATCH;
  }
  pql.destroy();
  const us = (ms) => round(ms * 1000, 2);
  results.traits = { steps: batches.length * BATCH, medianUs: us(stats(batches).median), unchangedScoreUs: us(stats(reads).median), checksum: sum };
}

/** A bare Core (js/core.js) on a wasm instance of its own: the glue at `glueUrl` (a query makes a distinct module). */
async function bareCore() {
  const [core, { instantiate }] = await Promise.all([import('/pqlkit/core.js'), import('/pqlkit/loader.js')]);
  const module = await WebAssembly.compileStreaming(fetch('/pqlkit/wasm/pqlkit_bg.wasm'));
  return { ...core, wasm: instantiate(module) };
}

/** The facade's per-track work, step by step, on a bare Core: where the time goes. */
async function measureSplits(rules, results) {
  const { Core, consentPolicy, valueBytes, writeObject, wasm } = await bareCore();
  const evs = events(WARMUP + N);
  const core = new Core(wasm, valueBytes(rules), 'anon', 7);
  core.openStorage('memory', STATE_KEY, T0);
  core.identify(USER.id, writeObject(USER.traits), T0);
  core.group(ACCOUNT.id, writeObject(ACCOUNT.traits), T0);
  const channel = new BroadcastChannel('pqlkit:bench-splits'); // nobody listens, like a lone tab
  const names = ['advance', 'parseAdvance', 'arm1', 'write', 'track', 'parseEffects', 'arm2', 'postMessage'];
  const sums = new Float64Array(names.length);
  let timer = 0;
  const arm = (t) => {
    clearTimeout(timer);
    const deadline = core.status()[0];
    if (deadline >= 0) timer = setTimeout(() => {}, Math.min(Math.max(0, deadline - t), 2 ** 31 - 1));
  };
  let effects = 0;
  let advanceEffects = 0;
  const withEffects = { n: 0, ms: 0, wholeMs: 0 };
  const without = { n: 0, ms: 0, wholeMs: 0 };
  const step = (i, timed) => {
    const e = evs[i];
    const t = e.t;
    const p0 = performance.now();
    const a = core.advance(t);
    const p1 = performance.now();
    advanceEffects += a ? JSON.parse(a).length : 0;
    const p2 = performance.now();
    arm(t);
    const p3 = performance.now();
    // Written after advance(), as the facade writes it (#call), and copied by core.track.
    const props = writeObject(e.props);
    const p4 = performance.now();
    const r = core.track(e.name, props, t);
    const p5 = performance.now();
    const fx = r ? JSON.parse(r).length : 0;
    effects += fx;
    const p6 = performance.now();
    arm(t);
    const p7 = performance.now();
    channel.postMessage({ op: 'track', args: [e.name, JSON.stringify(e.props)], t, tab: 'bench' });
    const p8 = performance.now();
    if (timed) {
      const marks = [p0, p1, p2, p3, p4, p5, p6, p7, p8];
      for (let k = 0; k < 8; k++) sums[k] += marks[k + 1] - marks[k];
      const bucket = fx > 0 ? withEffects : without;
      bucket.n += 1;
      bucket.ms += p5 - p4;
      bucket.wholeMs += p8 - p0;
    }
  };
  for (let i = 0; i < WARMUP; i++) step(i, false);
  const start = performance.now();
  for (let i = WARMUP; i < WARMUP + N; i++) step(i, true);
  const wall = performance.now() - start;
  clearTimeout(timer);
  channel.close();

  // The bare wasm call alone (the properties written, then the call; text out), batched, on a
  // fresh core.
  const bare = new Core(wasm, valueBytes(rules), 'anon', 7);
  bare.openStorage('memory', STATE_KEY, T0);
  bare.identify(USER.id, writeObject(USER.traits), T0);
  bare.group(ACCOUNT.id, writeObject(ACCOUNT.traits), T0);
  for (let i = 0; i < WARMUP; i++) bare.track(evs[i].name, writeObject(evs[i].props), evs[i].t);
  const bareStart = performance.now();
  for (let i = WARMUP; i < WARMUP + N; i++) bare.track(evs[i].name, writeObject(evs[i].props), evs[i].t);
  const bareMs = performance.now() - bareStart;
  bare.free();
  core.free();

  // The primitives the facade calls around the wasm, each alone in a tight loop (precise means).
  const loop = (f) => {
    for (let i = 0; i < 1000; i++) f(i);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f(i);
    return round(((performance.now() - t0) * 1000) / N, 3);
  };
  const probe = new Core(wasm, valueBytes(rules), 'anon', 7);
  probe.openStorage('memory', STATE_KEY, T0);
  let handle = 0;
  const ch = new BroadcastChannel('pqlkit:bench-micro');
  const micro = {
    'JSON.stringify(props)': loop((i) => JSON.stringify(evs[i].props)),
    'writeObject(props)': loop((i) => writeObject(evs[i].props)),
    "JSON.parse('[]')": loop(() => JSON.parse('[]')),
    'core.status()': loop(() => probe.status()[0]),
    'core.advance(now) (nothing due)': loop(() => probe.advance(T0)),
    'clearTimeout + setTimeout': loop(() => {
      clearTimeout(handle);
      handle = setTimeout(() => {}, 3_600_000);
    }),
    'BroadcastChannel.postMessage': loop((i) => ch.postMessage({ op: 'track', args: [evs[i].name, '{"item":"v1","amount":1}'], t: evs[i].t, tab: 'bench' })),
    'consentPolicy() (wasm)': loop(() => consentPolicy(wasm, 'granted', false)),
  };
  clearTimeout(handle);
  ch.close();
  probe.free();

  const perCall = {};
  names.forEach((name, i) => (perCall[name] = round((sums[i] * 1000) / N, 2)));
  results.splits = {
    note: 'mean µs per call of each step (sums of 5 µs-clamped, jittered timings over N calls)',
    perCallUs: perCall,
    sumUs: round((sums.reduce((a, b) => a + b, 0) * 1000) / N, 2),
    wallUs: round((wall * 1000) / N, 2),
    bareTrackOnlyUs: round((bareMs * 1000) / N, 2),
    effects,
    advanceEffects,
    coreTrackUs: {
      withEffects: round((withEffects.ms * 1000) / Math.max(1, withEffects.n), 2),
      withoutEffects: round((without.ms * 1000) / Math.max(1, without.n), 2),
      callsWithEffects: withEffects.n,
    },
    wholeStepUs: {
      withEffects: round((withEffects.wholeMs * 1000) / Math.max(1, withEffects.n), 2),
      withoutEffects: round((without.wholeMs * 1000) / Math.max(1, without.n), 2),
    },
    microUs: micro,
  };
}

async function measureStorage(pqlkit, rules, results) {
  localStorage.clear();
  const evs = events(STORAGE_EVENTS);
  const clock = { t: evs[0].t };
  const pql = await pqlkit.init(options(rules, clock, { storage: 'local', ...(COLLECTOR ? { collector: { url: '/pql/collect' } } : {}) }));
  const counts = { beacon: 0, prompt: 0, error: 0 };
  const errors = new Set();
  let firstErrorAt = null;
  let k = 0;
  for (const name of Object.keys(counts)) {
    pql.on(name, (p) => {
      counts[name] += 1;
      if (name === 'error') {
        errors.add(p?.code);
        firstErrorAt ??= k;
      }
    });
  }
  await sleep(50);
  // 200,000 events stand for 60 days of use: between bursts of 5,000 the page idles and the
  // collector drains the outbox (flush), as it would in real time. Only the bursts are timed.
  let trackMs = 0;
  const CHUNK = 5_000;
  for (let i = 0; i < evs.length; i += CHUNK) {
    const end = Math.min(evs.length, i + CHUNK);
    const start = performance.now();
    for (k = i; k < end; k++) {
      const e = evs[k];
      clock.t = e.t;
      pql.track(e.name, e.props);
    }
    trackMs += performance.now() - start;
    if (end % 20_000 === 0) status(`storage: ${end} / ${evs.length} events`);
    if (COLLECTOR) await pql.flush();
  }
  const saveStart = performance.now();
  dispatchEvent(new Event('pagehide'));
  const saveMs = performance.now() - saveStart;
  const keys = {};
  const enc = new TextEncoder();
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key.startsWith('pqlkit')) continue;
    const value = localStorage.getItem(key);
    keys[key] = { chars: key.length + value.length, utf8Bytes: enc.encode(key + value).length };
  }
  pql.destroy();
  let collectorReceived = null;
  try {
    collectorReceived = (await (await fetch('/pql/beacons')).json()).received;
  } catch {}
  const total = Object.values(keys).reduce((a, k) => a + k.utf8Bytes, 0);

  // init restoring that state (what a reload after 60 days of use costs).
  const restore = [];
  for (let i = 0; i < INITS; i++) {
    const t0 = performance.now();
    const p = await pqlkit.init(options(rules, clock, { storage: 'local' }));
    restore.push(performance.now() - t0);
    p.destroy();
    await sleep(0);
  }
  const r = stats(restore);
  localStorage.clear();
  results.storage = {
    collector: COLLECTOR,
    events: evs.length,
    simulatedDays: round((evs[evs.length - 1].t - evs[0].t) / DAY, 1),
    keys,
    stateBytes: keys[STATE_KEY]?.utf8Bytes ?? 0,
    totalBytes: total,
    saveOnPagehideMs: round(saveMs),
    replay: { ms: round(trackMs), eventsPerSec: Math.round(evs.length / (trackMs / 1000)), usPerEvent: round((trackMs * 1000) / evs.length) },
    effects: counts,
    errorCodes: [...errors],
    firstErrorAtEvent: firstErrorAt,
    collectorReceived,
    initRestoringMs: { median: round(r.median), min: round(r.min), max: round(r.max), runs: r.n },
  };
}

/** Wasm memory in bytes around a bare Core's life: it only grows (wasm cannot shrink it). */
async function measureMemory(rules, results) {
  // A module instance of its own (the query makes it a distinct module), so what the other
  // phases allocated is not counted.
  const { Core, valueBytes, writeObject, wasm } = await bareCore();
  const bytes = () => wasm.memory.buffer.byteLength;
  const start = bytes();
  const core = new Core(wasm, valueBytes(rules), 'anon', 7);
  core.openStorage('memory', STATE_KEY, T0);
  const compiled = bytes();
  const evs = events(STORAGE_EVENTS);
  for (const e of evs) {
    const effects = core.track(e.name, writeObject(e.props), e.t);
    if (effects) JSON.parse(effects);
  }
  const stateBytes = core.saveState().length;
  results.memory = { startBytes: start, compiledBytes: compiled, afterEventsBytes: bytes(), events: evs.length, stateBytes };
  core.free();
}

async function main() {
  const results = {
    rules: RULES,
    entry: ENTRY,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    clockResolutionUs: clockResolutionUs(),
    phaseMs: {},
  };
  window.results = results;
  try {
    const genStart = performance.now();
    const rules = ruleSet(RULES);
    results.generateMs = round(performance.now() - genStart);
    const importStart = performance.now();
    const pqlkit = await import(ENTRY);
    results.importMs = round(performance.now() - importStart);
    const phases = {
      first: () => measureFirst(pqlkit, rules, results),
      init: () => measureInit(pqlkit, rules, results),
      track: () => measureTrack(pqlkit, rules, results),
      traits: () => measureTraits(pqlkit, rules, results),
      splits: () => measureSplits(rules, results),
      storage: () => measureStorage(pqlkit, rules, results),
      memory: () => measureMemory(rules, results),
    };
    for (const [name, measure] of Object.entries(phases)) {
      if (!ONLY.has(name)) continue;
      status(`${name}…`);
      if (name !== 'init') await sleep(0); // let the page settle between phases
      const started = performance.now();
      await measure();
      results.phaseMs[name] = Math.round(performance.now() - started);
    }
    status('done');
  } catch (error) {
    results.error = String(error?.stack ?? error);
    status('failed: ' + error);
  }
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
  window.results = JSON.parse(JSON.stringify(results));
  window.done = true;
}

main();
