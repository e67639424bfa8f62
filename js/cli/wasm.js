// The command line's wasm (js/wasm-authoring): the engine of the browser build plus the
// authoring validator's messages and the backtest driver, compiled for speed. Compiled once per
// process: the main thread hands the compiled module to its replay threads, which then only
// instantiate it (and share its optimised code).
import { readFileSync } from 'node:fs';
import { initSync } from '../wasm-authoring/pqlkit_authoring.js';

export { Backtest, lastUserStart, parseTimestamp, partitionLines } from '../wasm-authoring/pqlkit_authoring.js';

let compiled = null;
let exports = null;

/** Loads the wasm into this thread (`module` from the main thread, else compiled from disk); returns the compiled module. */
export function loadCliWasm(module) {
  if (compiled) return compiled;
  compiled = module ?? new WebAssembly.Module(readFileSync(new URL('../wasm-authoring/pqlkit_authoring_bg.wasm', import.meta.url)));
  exports = initSync({ module: compiled });
  return compiled;
}

/** The loaded wasm's exports, for js/core.js's `Core`. */
export function cliWasm() {
  loadCliWasm();
  return exports;
}
