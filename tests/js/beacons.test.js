// The beacon outbox (js/beacons.js) against the real demo collector (www/server.js) on localhost:
// batching, retries through 500s, slow answers and refused connections, persistence across a
// "reload", the byte cap, consent modes, the three wire formats, and a failing storage.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { createOutbox as create } from '../../js/beacons.js';
import { batchWriter } from '../../js/formats.js';
import { beaconsOf, startServer } from '../../www/server.js';

// Every outbox a test creates is destroyed after it, so a failing test cannot leave retry timers
// that keep the run alive.
const live = [];
const createOutbox = (options) => {
  const ob = create(options);
  live.push(ob);
  return ob;
};
afterEach(() => {
  for (const ob of live.splice(0)) ob.destroy();
});

let seq = 0;
function beacon(extra = {}) {
  seq += 1;
  return {
    id: randomBytes(16).toString('hex'),
    type: 'qualified',
    rule: `rule-${seq}`,
    score: 40 + seq,
    tier: 'hot',
    userId: seq % 2 ? `u_${seq}` : null,
    anonymousId: 'anon-1',
    accountId: seq % 3 ? 'acme' : null,
    signals: { count: seq, distinctDays: 2 },
    timestamp: 1_700_000_000_000 + seq,
    sdkVersion: '0.1.0',
    ...extra,
  };
}

function memoryStorage() {
  const data = new Map();
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, what, ms = 8000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A collector on a free port with its own data directory, closed (connections too) after `fn`. */
async function withCollector(fn, port = 0) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pqlkit-beacons-'));
  const srv = await startServer({ port, dataDir });
  const collect = `http://127.0.0.1:${srv.port}/pql/collect`;
  const stats = async () => (await fetch(`http://127.0.0.1:${srv.port}/pql/beacons`)).json();
  try {
    return await fn({ srv, collect, stats });
  } finally {
    srv.server.closeAllConnections();
    await srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A fetch that counts (and records) the requests it makes. */
function spyFetch(inner = fetch) {
  const calls = [];
  const f = (url, init) => {
    calls.push({ url, init, body: JSON.parse(init.body) });
    return inner(url, init);
  };
  f.calls = calls;
  return f;
}

/** Every id arrived exactly once. */
async function assertExactlyOnce(stats, beacons) {
  const s = await stats();
  assert.deepEqual(new Set(s.beacons.map((b) => b.id)), new Set(beacons.map((b) => b.id)), 'distinct ids at the collector');
  assert.equal(s.received, beacons.length, 'total ids received');
  assert.equal(s.duplicates, 0);
}

const fast = { delayMs: 20, retryBaseMs: 20, retryMaxMs: 200 };

test('batching: beacons enqueued together go in one request after the debounce', () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const sent = [];
    const ob = createOutbox({ url: collect, fetch: f, ...fast, delayMs: 60, onSent: (b) => sent.push(...b) });
    const list = Array.from({ length: 7 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    assert.equal(ob.pending(), 7);
    assert.equal(f.calls.length, 0, 'nothing sent before the debounce');
    await until(() => ob.pending() === 0, 'the batch to be sent');
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0].init.keepalive, true);
    assert.equal(f.calls[0].init.method, 'POST');
    assert.deepEqual(f.calls[0].body.beacons.map((b) => b.id), list.map((b) => b.id));
    assert.equal(typeof f.calls[0].body.sentAt, 'number');
    assert.deepEqual(sent.map((b) => b.id), list.map((b) => b.id));
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test('batching: a big queue is sent at once, without waiting for the debounce', () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const ob = createOutbox({ url: collect, fetch: f, delayMs: 60_000 });
    const list = Array.from({ length: 50 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    await until(() => ob.pending() === 0, 'the big batch');
    assert.equal(f.calls.length, 1);
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test('flush sends everything queued, in several requests when one body would pass 60 KB', () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const ob = createOutbox({ url: collect, fetch: f, delayMs: 60_000, maxBytes: 1e6 });
    const list = Array.from({ length: 40 }, () => beacon({ signals: { blob: 'x'.repeat(3000) } }));
    for (const b of list) ob.enqueue(b);
    await ob.flush();
    assert.equal(ob.pending(), 0);
    assert.ok(f.calls.length >= 2, `split into ${f.calls.length} requests`);
    for (const c of f.calls) {
      assert.ok(Buffer.byteLength(c.init.body) <= 60_000);
      assert.equal(c.init.keepalive, true);
    }
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test('collector answers 500, then recovers: every beacon arrives exactly once', () =>
  withCollector(async ({ srv, collect, stats }) => {
    srv.mode.collector = 'error';
    const f = spyFetch();
    const ob = createOutbox({ url: collect, fetch: f, ...fast });
    const list = [];
    for (let i = 0; i < 12; i++) {
      const b = beacon();
      list.push(b);
      ob.enqueue(b);
      if (i % 4 === 3) await ob.flush(); // resolves (does not reject) on the 500
    }
    await until(() => f.calls.length >= 6, 'several failed attempts');
    assert.equal(ob.pending(), 12);
    assert.equal((await stats()).received, 0);
    srv.mode.collector = 'ok';
    await until(() => ob.pending() === 0, 'recovery');
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test('slow collector (3 s): one request at a time, nothing sent twice, flush waits for the answer', () =>
  withCollector(async ({ srv, collect, stats }) => {
    srv.mode.collector = 'slow';
    const f = spyFetch();
    const ob = createOutbox({ url: collect, fetch: f, ...fast });
    const first = [beacon(), beacon(), beacon()];
    for (const b of first) ob.enqueue(b);
    const started = Date.now();
    const flushed = ob.flush();
    await sleep(200); // the debounce timer fires meanwhile: it must not start a second request
    const second = [beacon(), beacon()];
    for (const b of second) ob.enqueue(b);
    await sleep(200);
    assert.equal(f.calls.length, 1, 'a single request in flight');
    srv.mode.collector = 'ok';
    await flushed;
    assert.ok(Date.now() - started >= 2900, 'flush resolved after the slow answer');
    assert.equal(ob.pending(), 0);
    assert.equal(f.calls.length, 2);
    await assertExactlyOnce(stats, [...first, ...second]);
    ob.destroy();
  }));

test('connection refused (closed port), then the collector starts: every beacon arrives once', async () => {
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const f = spyFetch();
  const ob = createOutbox({ url: `http://127.0.0.1:${port}/pql/collect`, fetch: f, ...fast });
  const list = Array.from({ length: 5 }, () => beacon());
  for (const b of list) ob.enqueue(b);
  await until(() => f.calls.length >= 3, 'refused attempts');
  assert.equal(ob.pending(), 5);
  await withCollector(async ({ stats }) => {
    await until(() => ob.pending() === 0, 'delivery once the port listens');
    await assertExactlyOnce(stats, list);
  }, port);
  ob.destroy();
});

test("collector destroys the socket ('refuse' mode), then recovers", () =>
  withCollector(async ({ srv, collect, stats }) => {
    srv.mode.collector = 'refuse';
    const f = spyFetch();
    const ob = createOutbox({ url: collect, fetch: f, ...fast });
    const list = Array.from({ length: 4 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    await until(() => f.calls.length >= 3, 'reset connections');
    assert.equal(ob.pending(), 4);
    srv.mode.collector = 'ok';
    await until(() => ob.pending() === 0, 'recovery');
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test('reload while offline: a NEW outbox on the same storage sends what the old one kept', () =>
  withCollector(async ({ srv, collect, stats }) => {
    srv.mode.collector = 'error';
    const storage = memoryStorage();
    const before = createOutbox({ url: collect, storage, ...fast });
    const list = Array.from({ length: 6 }, () => beacon());
    for (const b of list) {
      before.enqueue(b);
      // persisted after every change
      assert.ok(JSON.parse(storage.get('pqlkit:v1:outbox')).some((x) => x.id === b.id));
    }
    await before.flush();
    before.destroy(); // the page goes away
    assert.equal(JSON.parse(storage.get('pqlkit:v1:outbox')).length, 6);
    srv.mode.collector = 'ok';
    const after = createOutbox({ url: collect, storage, ...fast });
    assert.equal(after.pending(), 6);
    await until(() => after.pending() === 0, 'the next page load to send them, unasked');
    assert.deepEqual(JSON.parse(storage.get('pqlkit:v1:outbox')), []);
    await assertExactlyOnce(stats, list);
    after.destroy();
  }));

test('two tabs on one storage, offline, both closed: the next page load sends every beacon once', () =>
  withCollector(async ({ srv, collect, stats }) => {
    srv.mode.collector = 'error';
    const storage = memoryStorage();
    const tabA = createOutbox({ url: collect, storage, ...fast });
    const tabB = createOutbox({ url: collect, storage, ...fast });
    const a = [beacon(), beacon()];
    const b = [beacon()];
    tabA.enqueue(a[0]);
    tabB.enqueue(b[0]); // without merging, B's write would erase a[0] from storage
    tabA.enqueue(a[1]); // ... and A's would erase b[0]
    await Promise.all([tabA.flush(), tabB.flush()]);
    tabA.destroy();
    tabB.destroy();
    const all = [...a, ...b];
    assert.deepEqual(new Set(JSON.parse(storage.get('pqlkit:v1:outbox')).map((x) => x.id)), new Set(all.map((x) => x.id)));
    srv.mode.collector = 'ok';
    const next = createOutbox({ url: collect, storage, ...fast });
    await until(() => next.pending() === 0, 'the next page load');
    await assertExactlyOnce(stats, all);
    next.destroy();
  }));

test('two live tabs on one storage: a beacon one tab confirmed is not adopted again by the other', () =>
  withCollector(async ({ collect, stats }) => {
    const storage = memoryStorage();
    const tabA = createOutbox({ url: collect, storage, ...fast, delayMs: 60_000 });
    const tabB = createOutbox({ url: collect, storage, ...fast, delayMs: 60_000 });
    const x = beacon();
    tabA.enqueue(x);
    await tabA.flush();
    assert.deepEqual(JSON.parse(storage.get('pqlkit:v1:outbox')), []);
    const y = beacon();
    tabB.enqueue(y); // B never saw x: only y is queued and stored
    assert.equal(tabB.pending(), 1);
    await tabB.flush();
    tabA.enqueue(beacon()); // A reads storage again: x stays settled
    assert.equal(tabA.pending(), 1);
    await tabA.flush();
    const s = await stats();
    assert.equal(s.beacons.length, 3);
    assert.equal(s.duplicates, 0);
    tabA.destroy();
    tabB.destroy();
  }));

test('corrupt or foreign stored data is replaced, not trusted', () => {
  for (const raw of ['not json', '{"beacons":1}', '42', 'null']) {
    const storage = memoryStorage();
    storage.set('pqlkit:v1:outbox', raw);
    const ob = createOutbox({ url: 'http://127.0.0.1:9/x', storage, fetch: async () => ({ status: 200 }), setTimeout: () => 0 });
    assert.equal(ob.pending(), 0, raw);
  }
  const storage = memoryStorage();
  storage.set('pqlkit:v1:outbox', JSON.stringify([1, null, { id: 5 }, { id: 'ok' }]));
  const ob = createOutbox({ url: 'http://127.0.0.1:9/x', storage, setTimeout: () => 0 });
  assert.equal(ob.pending(), 1);
});

test('byte cap: when full the OLDEST beacons are dropped, each with an outbox_full error', () =>
  withCollector(async ({ collect, stats }) => {
    const storage = memoryStorage();
    const errors = [];
    const ob = createOutbox({ url: collect, storage, ...fast, maxBytes: 1500, onError: (e) => errors.push(e) });
    ob.setMode('hold');
    const list = Array.from({ length: 10 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    const kept = ob.pending();
    assert.ok(kept > 0 && kept < 10, `kept ${kept}`);
    assert.equal(errors.length, 10 - kept);
    assert.ok(errors.every((e) => e.code === 'outbox_full' && typeof e.message === 'string'));
    assert.deepEqual(errors.map((e) => e.beacon.id), list.slice(0, 10 - kept).map((b) => b.id), 'oldest first');
    const stored = storage.get('pqlkit:v1:outbox');
    assert.ok(Buffer.byteLength(stored) <= 1500);
    assert.deepEqual(JSON.parse(stored).map((b) => b.id), list.slice(10 - kept).map((b) => b.id), 'newest kept');
    ob.setMode('send');
    await ob.flush();
    await assertExactlyOnce(stats, list.slice(10 - kept));
    ob.destroy();
  }));

test("'hold' sends nothing (flush included) until 'send'", () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const storage = memoryStorage();
    const ob = createOutbox({ url: collect, fetch: f, storage, ...fast });
    ob.setMode('hold');
    const list = [beacon(), beacon(), beacon()];
    for (const b of list) ob.enqueue(b);
    await ob.flush();
    ob.pageHidden();
    await sleep(100);
    assert.equal(f.calls.length, 0);
    assert.equal(ob.pending(), 3);
    assert.equal(JSON.parse(storage.get('pqlkit:v1:outbox')).length, 3, 'kept (offline: survives a reload)');
    ob.setMode('send');
    await until(() => ob.pending() === 0, 'sending after hold');
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

test("'off' drops: enqueue stores and sends nothing, and switching to off forgets the queue", () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const storage = memoryStorage();
    const ob = createOutbox({ url: collect, fetch: f, storage, ...fast });
    ob.setMode('hold');
    ob.enqueue(beacon());
    ob.enqueue(beacon());
    ob.setMode('off');
    assert.equal(ob.pending(), 0);
    assert.deepEqual(JSON.parse(storage.get('pqlkit:v1:outbox')), []);
    ob.enqueue(beacon());
    assert.equal(ob.pending(), 0);
    await ob.flush();
    ob.pageHidden();
    await sleep(100);
    assert.equal(f.calls.length, 0);
    assert.deepEqual(JSON.parse(storage.get('pqlkit:v1:outbox')), []);
    assert.equal((await stats()).received, 0);
    ob.destroy();
  }));

test('a storage whose set throws (quota) does not lose beacons: memory carries them', () =>
  withCollector(async ({ collect, stats }) => {
    let attempts = 0;
    const storage = {
      get: () => null,
      set() {
        attempts += 1;
        throw new Error('QuotaExceededError');
      },
    };
    const ob = createOutbox({ url: collect, storage, ...fast, delayMs: 60_000 });
    const list = Array.from({ length: 5 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    assert.ok(attempts >= 5);
    assert.equal(ob.pending(), 5);
    await ob.flush();
    assert.equal(ob.pending(), 0);
    await assertExactlyOnce(stats, list);
    ob.destroy();
  }));

for (const format of ['pqlkit', 'segment', 'posthog']) {
  test(`format '${format}' round-trips through the collector with the same ids and fields`, () =>
    withCollector(async ({ collect, stats }) => {
      const f = spyFetch();
      const ob = createOutbox({ url: collect, write: batchWriter(format, 'key_123') ?? undefined, fetch: f, ...fast });
      const list = [beacon(), beacon(), beacon(), beacon({ userId: null, accountId: null })];
      for (const b of list) ob.enqueue(b);
      await ob.flush();
      assert.equal(ob.pending(), 0);
      await assertExactlyOnce(stats, list);
      const got = new Map((await stats()).beacons.map(({ via, receivedAt, ...b }) => [b.id, b]));
      for (const b of list) assert.deepEqual(got.get(b.id), b, `${format}: ${b.id}`);
      // The same beacons sent again are recognised as duplicates by id.
      const again = createOutbox({ url: collect, write: batchWriter(format, 'key_123') ?? undefined, ...fast });
      for (const b of list) again.enqueue(b);
      await again.flush();
      const s = await stats();
      assert.equal(s.duplicates, list.length);
      assert.equal(s.beacons.length, list.length);
      ob.destroy();
      again.destroy();
    }));
}

test('segment body: Segment batch API fields', () => {
  const bodies = [];
  const b = beacon({ userId: 'u_9', accountId: 'acme' });
  const anon = beacon({ userId: null, accountId: null });
  const ob = createOutbox({ url: '/x', write: batchWriter('segment', 'wk'), now: () => 1_700_000_000_500, setTimeout: () => 0, fetch: async (u, i) => (bodies.push(JSON.parse(i.body)), { status: 200 }) });
  ob.enqueue(b);
  ob.enqueue(anon);
  return ob.flush().then(() => {
    const [body] = bodies;
    assert.equal(body.writeKey, 'wk');
    assert.equal(body.sentAt, '2023-11-14T22:13:20.500Z');
    assert.deepEqual(body.batch[0], {
      type: 'track',
      event: 'PQL qualified',
      messageId: b.id,
      userId: 'u_9',
      anonymousId: 'anon-1',
      timestamp: new Date(b.timestamp).toISOString(),
      properties: { id: b.id, type: 'qualified', rule: b.rule, score: b.score, tier: 'hot', accountId: 'acme', signals: b.signals, sdkVersion: '0.1.0' },
      context: { library: { name: 'pqlkit', version: '0.1.0' }, groupId: 'acme' },
    });
    assert.ok(!('userId' in body.batch[1]) && !('groupId' in body.batch[1].context), 'null ids left out');
  });
});

test('posthog body: PostHog /batch fields, uuid derived from the 32-hex id', () => {
  const bodies = [];
  const b = beacon({ userId: 'u_9', accountId: 'acme' });
  const anon = beacon({ userId: null, accountId: null });
  const odd = beacon({ id: 'not-hex' });
  const ob = createOutbox({ url: '/x', write: batchWriter('posthog', 'phc_1'), setTimeout: () => 0, fetch: async (u, i) => (bodies.push(JSON.parse(i.body)), { status: 200 }) });
  for (const x of [b, anon, odd]) ob.enqueue(x);
  return ob.flush().then(() => {
    const [body] = bodies;
    assert.equal(body.api_key, 'phc_1');
    const [e, a, o] = body.batch;
    assert.match(e.uuid, /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/);
    assert.equal(e.uuid.replaceAll('-', ''), b.id);
    assert.deepEqual(e, {
      event: 'pql_qualified',
      uuid: e.uuid,
      timestamp: new Date(b.timestamp).toISOString(),
      properties: {
        type: 'qualified', rule: b.rule, score: b.score, tier: 'hot', userId: 'u_9', anonymousId: 'anon-1', accountId: 'acme', signals: b.signals, sdkVersion: '0.1.0',
        distinct_id: 'u_9', $groups: { company: 'acme' }, pqlkit_id: b.id,
      },
    });
    assert.equal(a.properties.distinct_id, 'anon-1');
    assert.ok(!('$groups' in a.properties));
    assert.ok(!('uuid' in o), 'no uuid when the id is not 32 hex');
    assert.deepEqual(beaconsOf(body).map((x) => x.id), [b.id, anon.id, odd.id]);
  });
});

test('4xx other than 408/429 drops the batch with onError; 408, 429 and 5xx are retried', async () => {
  const statuses = [];
  const errors = [];
  let answer = 404;
  const ob = createOutbox({
    url: '/x', setTimeout: () => 0, onError: (e) => errors.push(e),
    fetch: async () => (statuses.push(answer), { status: answer }),
  });
  for (const s of [408, 429, 500, 503]) {
    answer = s;
    ob.enqueue(beacon());
    await ob.flush();
    assert.equal(errors.length, 0, `HTTP ${s} retried, no error`);
  }
  assert.equal(ob.pending(), 4);
  answer = 400;
  await ob.flush();
  assert.equal(ob.pending(), 0);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'beacon_rejected');
  assert.equal(errors[0].status, 400);
  assert.equal(errors[0].beacons.length, 4);
});

test('a 404 from the real collector (wrong path) drops the batch with beacon_rejected', () =>
  withCollector(async ({ srv }) => {
    const errors = [];
    const ob = createOutbox({ url: `http://127.0.0.1:${srv.port}/nope.json`, ...fast, onError: (e) => errors.push(e) });
    ob.enqueue(beacon());
    await ob.flush();
    assert.equal(ob.pending(), 0);
    assert.equal(errors[0]?.status, 404);
    ob.destroy();
  }));

test('backoff: 1 s x 2^n up to 5 min, +-50 % jitter, reset after a success', async () => {
  const delays = (random) => async () => {
    const armed = [];
    let ok = false;
    const ob = createOutbox({ url: '/x', random, setTimeout: (fn, ms) => (armed.push(ms), armed.length), clearTimeout: () => {}, fetch: async () => (ok ? { status: 200 } : Promise.reject(new TypeError('offline'))) });
    ob.enqueue(beacon());
    armed.length = 0; // the 1 s debounce
    for (let i = 0; i < 11; i++) await ob.flush();
    ok = true;
    await ob.flush();
    ok = false;
    ob.enqueue(beacon());
    await ob.flush();
    return armed;
  };
  const mid = await delays(() => 0.5)();
  assert.deepEqual(mid, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 1000, 1000]);
  // ^ after the success the next enqueue arms the 1 s debounce, and the next failure restarts at 1 s
  const low = await delays(() => 0)();
  assert.deepEqual(low.slice(0, 3), [500, 1000, 2000]);
  const high = await delays(() => 0.999)();
  assert.ok(Math.abs(high[0] - 1499) < 1 && high[10] <= 450000);
});

test('pageHidden: sendBeacon carries the queue, which stays queued until a later 2xx confirms it', () =>
  withCollector(async ({ collect, stats }) => {
    const storage = memoryStorage();
    const beaconed = [];
    const sendBeacon = (url, body) => {
      assert.equal(typeof body, 'string'); // text/plain: no CORS preflight
      beaconed.push(JSON.parse(body));
      fetch(url, { method: 'POST', body }); // the browser delivers it
      return true;
    };
    const ob = createOutbox({ url: collect, storage, sendBeacon, ...fast, delayMs: 60_000 });
    const list = Array.from({ length: 4 }, () => beacon());
    for (const b of list) ob.enqueue(b);
    ob.pageHidden();
    assert.equal(beaconed.length, 1);
    assert.deepEqual(beaconed[0].beacons.map((b) => b.id), list.map((b) => b.id));
    assert.equal(ob.pending(), 4, 'not dropped on sendBeacon alone');
    assert.equal(JSON.parse(storage.get('pqlkit:v1:outbox')).length, 4);
    await until(async () => (await stats()).received === 4, 'the beacon copy');
    await ob.flush(); // e.g. the page came back: the copy is confirmed by a 2xx
    assert.equal(ob.pending(), 0);
    const s = await stats();
    assert.equal(s.beacons.length, 4);
    assert.equal(s.duplicates, 4, 'the collector deduplicated the second copy by id');
    ob.destroy();
  }));

test('pageHidden: sendBeacon refused or missing falls back to fetch keepalive; a silent sendBeacon loss loses nothing', () =>
  withCollector(async ({ collect, stats }) => {
    const f = spyFetch();
    const refusing = createOutbox({ url: collect, fetch: f, sendBeacon: () => false, ...fast, delayMs: 60_000 });
    const a = [beacon(), beacon()];
    for (const b of a) refusing.enqueue(b);
    refusing.pageHidden();
    await until(() => f.calls.length === 1, 'the keepalive fallback');
    assert.equal(f.calls[0].init.keepalive, true);
    assert.equal(refusing.pending(), 2);
    const missing = createOutbox({ url: collect, fetch: f, sendBeacon: undefined, ...fast, delayMs: 60_000 });
    missing.enqueue(beacon());
    missing.pageHidden();
    await until(() => f.calls.length === 2, 'the fallback without sendBeacon');
    // sendBeacon says yes but the data never leaves (the browser may drop it): the next page load sends it.
    const storage = memoryStorage();
    const lying = createOutbox({ url: collect, storage, sendBeacon: () => true, ...fast, delayMs: 60_000 });
    const lost = beacon();
    lying.enqueue(lost);
    lying.pageHidden();
    lying.destroy();
    const next = createOutbox({ url: collect, storage, ...fast });
    await until(() => next.pending() === 0, 'the next page load');
    assert.ok((await stats()).beacons.some((b) => b.id === lost.id));
    for (const ob of [refusing, missing, next]) ob.destroy();
  }));

test('a fetch that throws, rejects or resolves to garbage counts as a failure and never wedges the outbox', async () => {
  let attempt = 0;
  const answers = [() => { throw new TypeError('sync'); }, () => Promise.reject(new Error('net')), () => undefined, () => ({}), () => ({ status: 204 })];
  const ob = createOutbox({ url: '/x', setTimeout: () => 0, fetch: () => answers[attempt++]() });
  ob.enqueue(beacon());
  for (let i = 0; i < 4; i++) {
    await ob.flush(); // never rejects
    assert.equal(ob.pending(), 1);
  }
  await ob.flush();
  assert.equal(ob.pending(), 0);
  assert.equal(attempt, 5);
});

test('destroy cancels timers: nothing is sent afterwards', async () => {
  let calls = 0;
  const ob = createOutbox({ url: '/x', delayMs: 20, fetch: async () => (calls++, { status: 200 }) });
  ob.enqueue(beacon());
  ob.destroy();
  await sleep(80);
  assert.equal(calls, 0);
  assert.equal(ob.pending(), 1);
});

test('enqueue ignores a beacon without an id and one already queued', () => {
  const ob = createOutbox({ url: '/x', setTimeout: () => 0 });
  const b = beacon();
  ob.enqueue(b);
  ob.enqueue({ ...b });
  ob.enqueue({ type: 'x' });
  ob.enqueue(null);
  assert.equal(ob.pending(), 1);
});

test('write: null (the batch format could not load) holds every beacon: queued and stored, never sent', async () => {
  let calls = 0;
  const storage = memoryStorage();
  const ob = createOutbox({ url: '/x', write: null, storage, delayMs: 10, fetch: async () => (calls++, { status: 200 }), sendBeacon: () => (calls++, true) });
  const b = beacon();
  ob.enqueue(b);
  await sleep(40);
  await ob.flush();
  ob.pageHidden();
  assert.equal(calls, 0);
  assert.equal(ob.pending(), 1);
  assert.deepEqual(JSON.parse(storage.get('pqlkit:v1:outbox')), [b]);
});
