// What the wasm core asks of the page (src/web/host.rs): its RegExp, toLowerCase, GrowthBook's
// padded versions, String(n), Number(text), JSON.parse and localStorage. Only strings, numbers
// and booleans cross (a string or a value back into a buffer `out` of the wasm's memory), and
// nothing throws into the wasm: a failure comes back as a value. And how strings and values
// are written into the wasm's memory, for these functions and for the facade's calls
// (js/core.js). wasm-bindgen copies this file next to each build's glue.

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

/**
 * GrowthBook's `paddedVersionString` of a version's text, its own regular expressions:
 * "v1.2.3+build" -> "    1-    2-    3-~", so that string order is version order.
 */
export function padVersion(text, out) {
  const parts = text.replace(/(^v|\+.*$)/g, '').split(/[-.]/);
  if (parts.length === 3) parts.push('~');
  return give(parts.map((part) => (/^[0-9]+$/.test(part) ? part.padStart(5, ' ') : part)).join('-'), out);
}

/** `String(n)`: the shortest digits that read back as `n`, as every JSON and text in pqlkit writes a number. */
export function numberText(n, out) {
  return give(String(n), out);
}

/** `Number(text)`: decimal text read correctly rounded, and JavaScript's coercion of a string to a number. */
export function numberValue(text) {
  return Number(text);
}

/**
 * Writes `s` as UTF-8 at `at`, with room for `s.length * 3` bytes; returns the bytes written.
 * Short ASCII byte by byte: for the names, keys and values of an event that is faster than a
 * call to encodeInto, which takes over at the first other character and for long text (every
 * string through encodeInto made the peer workload's loop 1.3-1.5 times slower, in a warmed
 * page and in fresh ones, at 100 rules). A rule set's JSON written by this loop made V8
 * replace the loop's code mid-run, then leave and re-enter optimised code 138 times in the
 * first 20,000 events of a fresh page.
 */
export function write(bytes, at, s) {
  let i = 0;
  if (s.length <= 255) {
    for (; i < s.length; i++) {
      const code = s.charCodeAt(i);
      if (code > 0x7f) break;
      bytes[at + i] = code;
    }
    if (i === s.length) return i;
  }
  return i + encoder.encodeInto(s.slice(i), bytes.subarray(at + i, at + s.length * 3)).written;
}

// Values for the wasm, in the layout src/web/value.rs reads (a tag byte; numbers as f64,
// lengths and counts as u32, little-endian), written into one scratch buffer that grows.
let scratch = new Uint8Array(1024);
let scratchView = new DataView(scratch.buffer);
let end = 0;

function room(bytes) {
  if (end + bytes > scratch.length) {
    const grown = new Uint8Array(Math.max(2 * scratch.length, end + bytes));
    grown.set(scratch);
    scratch = grown;
    scratchView = new DataView(grown.buffer);
  }
}

/** A string's UTF-8 byte length, then its bytes. */
function putString(s) {
  room(4 + s.length * 3);
  const length = write(scratch, end + 4, s);
  scratchView.setUint32(end, length, true);
  end += 4 + length;
}

/** Thrown where a value is not one JSON.parse could have made: writeValue then takes it through JSON.stringify. */
const NOT_PLAIN = {};

/**
 * Writes a value of the kinds JSON.parse makes: strings, finite numbers, booleans, null,
 * arrays, and objects whose prototype is Object's (or none) and without a toJSON. Anything
 * else throws NOT_PLAIN, as does nesting deeper than 128 levels (as deep as the reader of the
 * other builds goes, src/json.rs MAX_DEPTH).
 */
function putPlain(value, depth) {
  room(9);
  if (typeof value == 'string') {
    scratch[end++] = 4;
    putString(value);
  } else if (typeof value == 'number' && Number.isFinite(value)) {
    scratch[end] = 3;
    scratchView.setFloat64(end + 1, value + 0, true); // -0 as JSON writes it, 0
    end += 9;
  } else if (typeof value == 'boolean' || value === null) {
    scratch[end++] = value === null ? 0 : value ? 2 : 1;
  } else if (typeof value != 'object' || depth >= 128) {
    throw NOT_PLAIN;
  } else if (Array.isArray(value)) {
    scratch[end] = 5;
    scratchView.setUint32(end + 1, value.length, true);
    end += 5;
    for (let i = 0; i < value.length; i++) putPlain(value[i], depth + 1);
  } else {
    const proto = Object.getPrototypeOf(value);
    if ((proto !== Object.prototype && proto !== null) || typeof value.toJSON == 'function') throw NOT_PLAIN;
    const keys = Object.keys(value);
    scratch[end] = 6;
    scratchView.setUint32(end + 1, keys.length, true);
    end += 5;
    for (const key of keys) {
      putString(key);
      putPlain(value[key], depth + 1);
    }
  }
}

/**
 * Writes `value` as JSON.stringify would write it, in src/web/value.rs's layout, into the
 * scratch buffer; returns its byte length (0 when it writes nothing). Plain values directly;
 * the rest (toJSON, dates, undefined, cycles...) through JSON.stringify, so that it throws
 * where JSON.stringify throws. How an event's properties and traits cross (js/core.js): the
 * facade writes them, then the core copies them into the wasm's input with `copyValue`, with
 * no call in between that could write another.
 */
export function writeValue(value) {
  end = 0;
  try {
    putPlain(value, 0);
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    const json = JSON.stringify(value);
    end = 0;
    try {
      if (json !== undefined) putPlain(JSON.parse(json), 0);
    } catch {
      throw new RangeError('nested more than 128 levels deep');
    }
  }
  return end;
}

/** writeValue for what must be an object (properties, traits): -1 when toJSON made it something else, or it wrote nothing. */
export function writeObject(value) {
  return writeValue(value) > 0 && scratch[0] === 6 ? end : -1;
}

/** Writes `JSON.parse(text)` as writeValue does; its byte length, or -1 when `text` is not JSON or nests deeper than 128 levels. */
export function writeJson(text) {
  try {
    return writeValue(JSON.parse(text));
  } catch {
    return -1;
  }
}

/** Copies the value just written (its `length` bytes) to `bytes` at `at`: byte by byte when short, cheaper than a view. */
export function copyValue(bytes, at, length) {
  if (length > 64) bytes.set(scratch.subarray(0, length), at);
  else for (let i = 0; i < length; i++) bytes[at + i] = scratch[i];
  // A rule set of 1000 rules grows the scratch to about a megabyte: not kept for the page's life.
  if (scratch.length > 65536) {
    scratch = new Uint8Array(1024);
    scratchView = new DataView(scratch.buffer);
  }
}

/**
 * `value` written as writeValue writes it, in bytes of its own that outlive the next write:
 * how a rule set crosses (js/index.js), kept for a core started again after a fault.
 */
export function valueBytes(value) {
  const length = writeValue(value);
  const bytes = new Uint8Array(length);
  copyValue(bytes, 0, length);
  return bytes;
}

/**
 * `JSON.parse(text)` written into `out` as writeJson writes it, when it fits; its byte length
 * either way, or -1. What the wasm reads this way is saved state (a few KB), read once a page:
 * when `out` was too small, the second call parses the text again.
 */
export function jsonValue(text, out) {
  const length = writeJson(text);
  if (length >= 0 && length <= out.length) copyValue(out, 0, length);
  return length;
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
