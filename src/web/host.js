// What the wasm core asks of the page (src/web/host.rs): its RegExp, toLowerCase, String(n),
// Number(text) and localStorage. Only strings, numbers and booleans cross (a string back into
// a buffer `out` of the wasm's memory), and nothing throws into the wasm: a failure comes back
// as a value. wasm-bindgen copies this file next to each build's glue.

/** Compiled patterns by id; a forgotten id's slot is reused. */
const patterns = [];
const free = [];

/** The id of `new RegExp(pattern, flags)`, or -1 when that throws (not a valid pattern). */
export function regexCompile(pattern, flags) {
  try {
    const compiled = new RegExp(pattern, flags);
    const id = free.length ? free.pop() : patterns.length;
    patterns[id] = compiled;
    return id;
  } catch {
    return -1;
  }
}

export function regexTest(id, text) {
  return patterns[id].test(text);
}

export function regexForget(id) {
  patterns[id] = null;
  free.push(id);
}

const encoder = new TextEncoder();

/** Writes `text` into the wasm's buffer `out` as UTF-8 when it fits; its byte length either way. */
function give(text, out) {
  const { read, written } = encoder.encodeInto(text, out);
  return read === text.length ? written : encoder.encode(text).length;
}

export function lowercase(text, out) {
  return give(text.toLowerCase(), out);
}

/** `String(n)`: the shortest digits that read back as `n`, as every JSON and text in pqlkit writes a number. */
export function numberText(n, out) {
  return give(String(n), out);
}

/** `Number(text)`: decimal text read correctly rounded, and JavaScript's coercion of a string to a number. */
export function numberValue(text) {
  return Number(text);
}

/** Whether localStorage can be reached: it is missing under Node and throws in sandboxed frames and some private modes. */
export function storageAvailable() {
  try {
    return Boolean(globalThis.localStorage);
  } catch {
    return false;
  }
}

/** The stored text's byte length (written into `out` when it fits), or -1: nothing stored, or no storage. */
export function storageGet(key, out) {
  try {
    const text = localStorage.getItem(key);
    return text == null ? -1 : give(text, out);
  } catch {
    return -1;
  }
}

/** False when the browser refused the write (quota, or storage went away). */
export function storageSet(key, value) {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

export function storageRemove(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing to remove where storage cannot be reached.
  }
}
