// pqlkit/validate: the authoring validator, for editors, CI, the playground, and the facade
// when `init` refuses a rule set. It lists every problem with the message `pqlkit validate`
// prints (did-you-mean, the shapes a signal may take, the known prompt ids). It runs the
// validator build of the core (js/wasm-validate: the checker with its messages, size-optimised),
// which a page downloads only when it asks for this module: the runtime wasm keeps each
// problem's code and path, not its words.
import { Core, put } from './core.js';
import { PqlkitError } from './errors.js';
import { instantiate, wasmLoader } from './loader.js';

export const loadValidator = wasmLoader(new URL('./wasm-validate/pqlkit_validate_bg.wasm', import.meta.url), instantiate);

/**
 * Every problem of a rule set (an object, or JSON text): `{ valid, errors: [{ code, path, message }] }`.
 * Resolves whatever the input; never throws for a bad rule set.
 */
export async function validate(rules) {
  const wasm = await loadValidator();
  const text = typeof rules === 'string' ? rules : JSON.stringify(rules ?? null);
  const core = new Core(wasm, text ?? 'null', 'pqlkit-validate', 1);
  try {
    const errors = core.errors();
    return { valid: errors.length === 0, errors };
  } finally {
    core.free();
  }
}

/** GrowthBook-compatible condition evaluation, exactly as rules use it. */
export async function evalCondition(condition, attributes, groups = {}) {
  const wasm = await loadValidator();
  const json = (value) => JSON.stringify(value) ?? 'null';
  const result = wasm.eval_condition(...put(wasm, json(condition), json(attributes ?? {}), json(groups ?? {})));
  if (result < 0) throw new PqlkitError('invalid_condition', 'evalCondition: the condition, attributes or groups are not JSON values');
  return result === 1;
}

/** A duration as rule sets write them (`"90s" "30m" "24h" "7d" "2w"`) in milliseconds, or null when it is not one. */
export async function parseDuration(text) {
  return durationMs(await loadValidator(), text);
}

/** `parseDuration` on an authoring wasm already loaded (the command line's). */
export function durationMs(wasm, text) {
  const ms = wasm.parse_duration(...put(wasm, String(text)));
  return Number.isNaN(ms) ? null : ms;
}
