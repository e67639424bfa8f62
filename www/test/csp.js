// The strict-CSP fixture's script (tests/e2e/hardening.test.js): records CSP violations and
// pqlkit's events, and starts pqlkit when the test asks.
import { init } from '/pqlkit/pqlkit.min.js';

window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
window.pageClicks = 0;
document.getElementById('own').addEventListener('click', () => {
  window.pageClicks += 1;
  document.getElementById('count').textContent = String(window.pageClicks);
});
window.events = [];
window.start = async (options) => {
  try {
    window.pql = await init(options);
  } catch (error) {
    return { rejected: { name: error.name, code: error.code, message: error.message } };
  }
  for (const name of ['qualified', 'prompt', 'error']) window.pql.on(name, (p) => window.events.push({ name, code: p?.code, message: p?.message, rule: p?.rule }));
  return { started: true };
};
window.ready = true;
