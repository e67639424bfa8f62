// A backtest thread: one engine (`Backtest`), fed pieces of the history that hold whole users.
import { parentPort, workerData } from 'node:worker_threads';
import { Backtest, loadCliWasm } from './wasm.js';

const { rulesJson, conversionsJson, end, module } = workerData;
loadCliWasm(module);
const backtest = new Backtest(rulesJson, conversionsJson, end);
parentPort.on('message', ({ id, buffer, length, grouped }) => {
  let result;
  try {
    result = backtest.replay(new Uint8Array(buffer, 0, length), 1, grouped); // pieces number their lines from 1
  } catch (error) {
    result = JSON.stringify({ failure: String(error?.message ?? error) });
  }
  parentPort.postMessage({ id, result });
});
