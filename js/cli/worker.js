// A backtest thread: one engine (`Backtest`), fed pieces of the history that hold whole users.
import { parentPort, workerData } from 'node:worker_threads';
import { Backtest, loadCliWasm } from './wasm.js';

loadCliWasm();
const { rulesJson, conversionsJson, end } = workerData;
const backtest = new Backtest(rulesJson, conversionsJson, end);
parentPort.on('message', ({ id, bytes, firstLine, grouped }) => {
  let result;
  try {
    result = backtest.replay(bytes, firstLine, grouped);
  } catch (error) {
    result = JSON.stringify({ error: { line: firstLine, message: `engine failure: ${error?.message ?? error}` } });
  }
  parentPort.postMessage({ id, result });
});
