// The command line's wasm (js/wasm-cli): the engine of the browser build plus the backtest
// driver, compiled for speed. Loaded synchronously from disk, once per thread.
import { readFileSync } from 'node:fs';
import { initSync } from '../wasm-cli/pqlkit_cli.js';

export { Backtest, Core, lastUserStart, parseTimestamp, partitionLines } from '../wasm-cli/pqlkit_cli.js';

let loaded = false;

export function loadCliWasm() {
  if (!loaded) {
    initSync({ module: readFileSync(new URL('../wasm-cli/pqlkit_cli_bg.wasm', import.meta.url)) });
    loaded = true;
  }
}
