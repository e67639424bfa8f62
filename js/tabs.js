// Tabs of one origin share events, counters and caps. Every tab replays the calls made in the
// others on its own engine — the engine is deterministic, so all tabs reach the same state and
// the same prompt decisions — and only the tab where a call happened acts on its effects.
// Time-driven effects (deadlines) are acted on by one leader tab, chosen with Web Locks.
const NAME = 'pqlkit:v1';

export function connectTabs(onMessage) {
  let channel = null;
  let onStorage = null;
  if (typeof BroadcastChannel === 'function') {
    channel = new BroadcastChannel(NAME);
    channel.onmessage = (e) => onMessage(e.data);
  } else if (typeof addEventListener === 'function') {
    // Fallback: a storage event carries the message to the other tabs.
    onStorage = (e) => {
      if (e.key !== NAME + ':msg' || !e.newValue) return;
      try {
        onMessage(JSON.parse(e.newValue).m);
      } catch {
        // Not ours, or torn.
      }
    };
    addEventListener('storage', onStorage);
  }
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
    post(message) {
      try {
        if (channel) channel.postMessage(message);
        else if (onStorage) localStorage.setItem(NAME + ':msg', JSON.stringify({ m: message, n: Math.random() }));
      } catch {
        // A closed channel or a full storage: the other tabs catch up from saved state.
      }
    },
    isLeader: () => leader,
    close() {
      channel?.close();
      if (onStorage) removeEventListener('storage', onStorage);
      release?.();
    },
  };
}
