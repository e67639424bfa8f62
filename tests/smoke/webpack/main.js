// A webpack 5 app as a customer writes it: `npm install pqlkit`, no webpack configuration at all.
import { init } from 'pqlkit';
// The script-tag API too, for code that expects window.pqlkit (kept: sideEffects names it).
import 'pqlkit/global';
import rules from '../rules.json';

const status = document.getElementById('status');
// `?pqlkit_debug=1` loads the debug overlay, a chunk webpack splits off.
init({ rules, storage: 'memory', collector: { url: '/pql/collect' } }).then(
  () => (status.textContent = 'ready'),
  (error) => (status.textContent = `failed: ${error.code}`),
);
