// Tabs of one origin share events, counters and caps. Every tab replays the calls made in the
// others on its own engine — the engine is deterministic, so all tabs reach the same state and
// the same prompt decisions — and only the tab where a call happened acts on its effects.
// Time-driven effects (deadlines) are acted on by one leader tab, chosen with Web Locks.
const NAME = 'pqlkit:v1';

/**
 * `onMessage(message)` receives the other tabs' calls. A tab alone keeps its calls aside; when
 * a new tab says hello, an older one answers with `snapshot()` of its state, and the new tab
 * `adopt(state, calls)`s it — its own calls made meanwhile replayed on top — then shares those
 * calls. (Two tabs opened in the same instant each keep their own first calls.)
 */
export function connectTabs({ onMessage, snapshot, adopt }) {
  let channel = null;
  let onStorage = null;
  let peers = false;
  let pending = [];
  // Calls are kept aside only while an answer to our hello may still come.
  const helloUntil = Date.now() + 5000;
  const keepingAside = () => pending.length < 1000 && Date.now() < helloUntil;
  let outgoing = [];
  const send = (batch) => {
    try {
      if (channel) channel.postMessage(batch);
      else if (onStorage) localStorage.setItem(NAME + ':msg', JSON.stringify({ m: batch, n: Math.random() }));
    } catch {
      // A closed channel or a full storage: the other tabs catch up from saved state.
    }
  };
  const receive = (batch) => {
    if (!Array.isArray(batch)) return;
    for (const message of batch) {
      if (message?.op === 'hello') {
        peers = true;
        pending = []; // this tab's state holds them
        send([{ op: 'here', state: snapshot() }]);
      } else if (message?.op === 'here') {
        if (peers) continue; // a second older tab: the first answer was enough
        peers = true;
        adopt(message.state, pending);
        send(pending);
        pending = [];
      } else {
        peers = true;
        onMessage(message);
      }
    }
  };
  if (typeof BroadcastChannel === 'function') {
    channel = new BroadcastChannel(NAME);
    channel.onmessage = (e) => receive(e.data);
  } else if (typeof addEventListener === 'function') {
    // Fallback: a storage event carries the message to the other tabs.
    onStorage = (e) => {
      if (e.key !== NAME + ':msg' || !e.newValue) return;
      try {
        receive(JSON.parse(e.newValue).m);
      } catch {
        // Not ours, or torn.
      }
    };
    addEventListener('storage', onStorage);
  }
  send([{ op: 'hello' }]);
  const locks = globalThis.navigator?.locks;
  let leader = !locks;
  let release = null;
  locks
    ?.request(NAME + ':leader', () => {
      leader = true;
      return new Promise((resolve) => (release = resolve));
    })
    .catch(() => (leader = true));
  return {
    /** Shares a call; all calls of one task go out as one message. */
    post(message) {
      if (!peers) {
        if (message.op !== 'visible' && keepingAside()) pending.push(message);
        return;
      }
      if (outgoing.length === 0) {
        queueMicrotask(() => {
          const batch = outgoing;
          outgoing = [];
          send(batch);
        });
      }
      outgoing.push(message);
    },
    /** Whether a call posted now would reach another tab, or be kept for one that says hello. */
    listening: () => peers || keepingAside(),
    isLeader: () => leader,
    close() {
      channel?.close();
      if (onStorage) removeEventListener('storage', onStorage);
      release?.();
    },
  };
}
