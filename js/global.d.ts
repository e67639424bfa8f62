// Types of pqlkit/global, the script-tag build (js/pqlkit.global.js): `window.pqlkit.init(options)`.
// A page without a bundler gets them with `/// <reference types="pqlkit/global" />`.
import type { init } from './index.js';

declare global {
  interface Window {
    /** Set by pqlkit.global.js (a script tag, or `import 'pqlkit/global'`). */
    pqlkit: { init: typeof init };
  }
}

export {};
