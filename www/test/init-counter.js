// The real package with its `init` calls counted (window.inits), for tests that assert a
// binding starts pqlkit once. Fixtures map `pqlkit` here in their import map.
import { init as start } from '/pqlkit/pqlkit.min.js';
export * from '/pqlkit/pqlkit.min.js';

export function init(options) {
  window.inits = (window.inits ?? 0) + 1;
  return start(options);
}
