// mulberry32: a small seeded PRNG in [0, 1), shared by the chaos fixture (www/test/chaos.js) and
// its test (tests/e2e/chaos.test.js), so that one seed replays the same choices in both.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
