// Loads the wasm core once. In a browser the generated loader fetches the .wasm next to this
// file (or `wasmUrl`); under Node it is read from disk, since Node's fetch cannot read file: URLs.
import initWasm, { initSync } from './wasm/pqlkit.js';

let loading = null;

export function loadWasm(wasmUrl) {
  if (!loading) {
    loading = load(wasmUrl).catch((error) => {
      loading = null; // a later init() may retry, e.g. after a network error
      throw error;
    });
  }
  return loading;
}

async function load(wasmUrl) {
  const url = wasmUrl ?? new URL('./wasm/pqlkit_bg.wasm', import.meta.url);
  const isNode = typeof process !== 'undefined' && process.versions?.node && typeof window === 'undefined';
  if (isNode && String(url).startsWith('file:')) {
    // A variable specifier keeps bundlers from pulling node:fs into browser builds.
    const fsModule = 'node:fs';
    const { readFileSync } = await import(fsModule);
    initSync({ module: readFileSync(new URL(url)) });
    return;
  }
  await initWasm({ module_or_path: url });
}
