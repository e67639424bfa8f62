// The command line's wasm (js/wasm-cli): the engine of the browser build plus the backtest
// driver, compiled for speed. Compiled once per process: the main thread hands the compiled
// module to its replay threads, which then only instantiate it (and share its optimised code).
import { readFileSync } from 'node:fs';
import { initSync } from '../wasm-cli/pqlkit_cli.js';

export { Backtest, Core, lastUserStart, parseTimestamp, partitionLines } from '../wasm-cli/pqlkit_cli.js';

let compiled = null;

/** Loads the wasm into this thread: `module` from the main thread, else compiled from disk. */
export function loadCliWasm(module) {
  if (compiled) return compiled;
  compiled = module ?? new WebAssembly.Module(readFileSync(new URL('../wasm-cli/pqlkit_cli_bg.wasm', import.meta.url)));
  initSync({ module: compiled });
  return compiled;
}
