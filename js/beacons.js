// Beacon outbox (PRODUCT.md §5). At-least-once: beacons stay queued (persisted, capped at
// maxBytes: the oldest is dropped with onError({ code: 'outbox_full', beacon })) until a 2xx;
// the collector deduplicates by id. Batches are POSTed as JSON, keepalive when <= 60 KB.
// Network error, timeout, 408, 429, 5xx: retried after retryBaseMs x 2^n (<= retryMaxMs), +-50 %.
// Other 4xx can never succeed: the batch is dropped, onError({ code: 'beacon_rejected', status,
// beacons }). pageHidden() uses sendBeacon (a text/plain body: parse it as JSON whatever the
// content type) or else fetch keepalive, and keeps the beacons until a later 2xx.
// Storage shared by tabs: each outbox adopts the stored beacons it has not settled.
// Bodies: pqlkit's own { beacons: [beacon], sentAt: ms }, or what `write` makes of a batch
// (js/formats.js: Segment's and PostHog's batch APIs, loaded only for apps that ask for them).
// `write: null` (that module could not load) holds the beacons, queued and persisted, unsent.

import { unref } from './timers.js';

const KEEPALIVE_LIMIT = 60000;
const encoder = new TextEncoder();
const byteLength = (s) => encoder.encode(s).length;
const safely = (f, x) => {
  try {
    f(x);
  } catch {}
};

export function createOutbox({
  url,
  write = (beacons, sentAt) => ({ beacons, sentAt }),
  storage,
  storageKey = 'pqlkit:v1:outbox',
  fetch = globalThis.fetch,
  sendBeacon = globalThis.navigator?.sendBeacon?.bind(globalThis.navigator),
  now = () => Date.now(),
  setTimeout = globalThis.setTimeout,
  clearTimeout = globalThis.clearTimeout,
  random = Math.random,
  maxBytes = 64 * 1024,
  delayMs = 1000, // debounce (none from 50 queued)
  retryBaseMs = 1000,
  retryMaxMs = 300000,
  timeoutMs = 30000,
  onError = () => {},
  onSent = () => {},
}) {
  let queue = [];
  let mode = 'send';
  let timer = 0;
  let inFlight = null;
  let failures = 0;
  let destroyed = false;
  const settled = new Set(); // ids settled here: never adopted again
  const queued = (id) => queue.some((b) => b.id == id);

  const adoptStored = () => {
    try {
      for (const b of JSON.parse(storage.get(storageKey))) if (typeof b?.id == 'string' && !settled.has(b.id) && !queued(b.id)) queue.push(b);
    } catch {} // corrupt or foreign: not trusted
  };

  const persist = () => {
    let json;
    if (mode != 'off') adoptStored();
    while (byteLength((json = JSON.stringify(queue))) > maxBytes && queue.length) {
      settled.add(queue[0].id);
      safely(onError, { code: 'outbox_full', message: 'beacon outbox full: oldest beacon dropped', beacon: queue.shift() });
    }
    try {
      storage?.set(storageKey, json);
    } catch {} // quota: the queue lives on in memory
  };

  const encodeBatch = (list) => JSON.stringify(write(list, now()));

  // The longest prefix (<= 100) whose body fits keepalive.
  const nextBatch = (list) => {
    let b = list.slice(0, 100);
    let body;
    while (byteLength((body = encodeBatch(b))) > KEEPALIVE_LIMIT && b.length > 1) b = b.slice(0, b.length >> 1);
    return [b, body];
  };

  const send = (body, keepalive) =>
    Promise.resolve().then(() => fetch(url, { method: 'POST', body, keepalive, headers: { 'content-type': 'application/json' }, signal: globalThis.AbortSignal?.timeout?.(timeoutMs) }));

  const disarm = () => {
    clearTimeout(timer);
    timer = 0;
  };

  const armIn = (ms) => {
    if (mode == 'send' && !destroyed && !timer && queue.length)
      timer = setTimeout(() => {
        timer = 0;
        sendNext();
      }, ms);
  };

  // One request at a time; true once its batch is settled.
  const sendNext = () => {
    if (inFlight) return inFlight;
    if (!write) return Promise.resolve(false);
    if (mode != 'send' || destroyed || !queue.length) return Promise.resolve(true);
    const [batch, body] = nextBatch(queue);
    return (inFlight = send(body, byteLength(body) <= KEEPALIVE_LIMIT)
      .then((r) => {
        // An unread keepalive body counts against the browser's 64 KB in-flight quota: after
        // 64 KB of beacons every later keepalive request would fail.
        r.body?.cancel().catch(() => {});
        return r.status;
      })
      .catch(() => 0)
      .then((status) => {
        inFlight = null;
        if ((status > 199 && status < 300) || (status > 399 && status < 500 && status != 408 && status != 429)) {
          for (const b of batch) settled.add(b.id);
          queue = queue.filter((b) => !settled.has(b.id));
          persist();
          failures = 0;
          if (status < 300) safely(onSent, batch);
          else safely(onError, { code: 'beacon_rejected', status, message: `collector answered HTTP ${status}: batch dropped`, beacons: batch });
          armIn(0);
          return true;
        }
        disarm();
        armIn(Math.min(retryBaseMs * 2 ** failures++, retryMaxMs) * (0.5 + random()));
        // Under Node a queued batch keeps the process alive until it is sent (a script that
        // exits drops no beacon), but a retry does not: a collector that is down never holds it.
        unref(timer);
        return false;
      }));
  };

  if (storage) adoptStored();
  armIn(delayMs);

  return {
    enqueue(b) {
      if (mode == 'off' || typeof b?.id != 'string' || queued(b.id)) return;
      queue.push(b);
      persist();
      if (queue.length < 50 || failures) armIn(delayMs);
      else {
        disarm();
        sendNext();
      }
    },
    async flush() {
      disarm();
      for (let n = 0; n < 1e3 && mode == 'send' && queue.length && (await sendNext()); n++);
    },
    pageHidden() {
      for (let rest = mode == 'send' && write ? queue : [], b, body; rest.length; rest = rest.slice(b.length)) {
        [b, body] = nextBatch(rest);
        let ok;
        try {
          ok = sendBeacon(url, body);
        } catch {}
        if (!ok) send(body, true).catch(() => {});
      }
    },
    setMode(m) {
      mode = m;
      disarm();
      if (m == 'off') {
        queue = [];
        persist();
      }
      armIn(0);
    },
    pending: () => queue.length,
    destroy() {
      destroyed = true;
      disarm();
    },
  };
}
