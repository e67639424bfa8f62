// What the wasm core asks of the page (src/web/host.rs): its RegExp, toLowerCase and
// localStorage. Only strings, numbers and booleans cross, and nothing throws into the wasm: a
// failure comes back as a value. wasm-bindgen copies this file next to each build's glue.

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

export function lowercase(text) {
  return text.toLowerCase();
}

/** Whether localStorage can be reached: it is missing under Node and throws in sandboxed frames and some private modes. */
export function storageAvailable() {
  try {
    return Boolean(globalThis.localStorage);
  } catch {
    return false;
  }
}

export function storageGet(key) {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
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
