// The page's functions the wasm imports (src/web/host.js, copied by the build), by name: a
// namespace import (`* as host`) made esbuild build an object of getters for it (57 B gzip).
import { jsonValue, lowercase, numberText, numberValue, padVersion, regexCompile, regexForget, regexTest, storageAvailable, storageGet, storageRemove, storageSet } from './wasm/host.js';

// Loads a wasm build once: `wasmLoader(url, start)` compiles the module (memoised) and hands it
// to `start(module)`, or answers the module itself without a `start`. In a browser the .wasm is
// compiled as it streams in (or from its bytes when the server sends a wrong MIME type); under
// Node it is read from disk, since Node's fetch cannot read file: URLs. No generated glue
// fetches anything: bundlers see one wasm reference, `new URL(...)` next to each caller.
export function wasmLoader(defaultUrl, start) {
  let loading = null;
  return (url = defaultUrl) => {
    // After a failure a later call may retry (e.g. after a network error). The handler also
    // marks the promise handled: init starts loading before it knows it will wait for it.
    if (!loading) (loading = compile(url).then(start)).catch(() => (loading = null));
    return loading;
  };
}

async function compile(url) {
  if (globalThis.process?.versions?.node && typeof window == 'undefined' && String(url).startsWith('file:')) {
    // Not an import: a bundler would try to resolve node:fs for the browser (Vite externalises
    // it with a warning, webpack fails or warns on a variable specifier). Node >= 20.16.
    const { readFileSync } = process.getBuiltinModule('fs');
    return WebAssembly.compile(readFileSync(new URL(url)));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} answered HTTP ${response.status}`);
  // compileStreaming takes only application/wasm; another type (a bucket or CDN that does not
  // know .wasm) is compiled from the bytes. Asked first, not tried: trying needed a copy of
  // the response (clone() tees its body) to fall back on.
  if (response.headers.get('content-type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A fresh instance of `module` (the runtime's or the validator's; its exports), with its own
 * memory: the facade starts one per core and, after a trap, another. wasm-bindgen's glue keeps
 * one instance per page, so their imports are bound here instead, from module `host`
 * (.ci/build.js names them so): src/web/host.js's functions, which take numbers directly, or
 * strings and buffers for strings back as (pointer, byte length) pairs (src/web/host.rs),
 * which these shims read.
 */
export function instantiate(module) {
  let w;
  const buffer = (at, length) => new Uint8Array(w.memory.buffer, at >>> 0, length >>> 0);
  const text = (at, length) => decoder.decode(buffer(at, length));
  const host = {
    lowercase: (a, n, b, m) => lowercase(text(a, n), buffer(b, m)),
    padVersion: (a, n, b, m) => padVersion(text(a, n), buffer(b, m)),
    numberText: (x, b, m) => numberText(x, buffer(b, m)),
    numberValue: (a, n) => numberValue(text(a, n)),
    jsonValue: (a, n, b, m) => jsonValue(text(a, n), buffer(b, m)),
    storageGet: (a, n, b, m) => storageGet(text(a, n), buffer(b, m)),
    regexCompile: (a, n, b, m) => regexCompile(text(a, n), text(b, m)),
    regexTest: (id, a, n) => regexTest(id, text(a, n)),
    regexForget,
    storageSet: (a, n, b, m) => storageSet(text(a, n), text(b, m)),
    storageRemove: (a, n) => storageRemove(text(a, n)),
    storageAvailable,
  };
  // Built without reference types (.ci/build.js), the wasm has no start function for
  // wasm-bindgen's table of JS values: it holds none.
  return (w = new WebAssembly.Instance(module, { host }).exports);
}
