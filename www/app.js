// The demo uses only the public package API, as an embedding team would.
import { init } from 'pqlkit';

const status = document.getElementById('status');
const log = document.getElementById('log');

function note(text) {
  const item = document.createElement('li');
  item.textContent = text;
  log.prepend(item);
}

try {
  const pql = await init({ rules: '/rules/default.json', user: { id: 'demo-user', traits: { plan: 'free' } } });
  window.pql = pql; // handy in the console and for the end-to-end tests
  pql.on('qualified', (e) => {
    const what = e.rule ? `rule "${e.rule}" fired` : 'score threshold reached';
    note(`qualified: ${what} — score ${e.score}, tier ${e.tier ?? 'none'}`);
    if (e.reason === 'rule') {
      status.textContent = `Qualified: ${what}.`;
      status.dataset.state = 'qualified';
    }
  });
  pql.on('beacon', (b) => note(`beacon "${b.type}" for ${b.rule ?? 'score'} (id ${b.id.slice(0, 8)}…)`));
  pql.on('error', (e) => note(`error: ${e.code}: ${e.message}`));
  document.getElementById('export').addEventListener('click', () => {
    const { score, tier } = pql.score();
    document.getElementById('score').textContent = `Score ${score}${tier ? ` (${tier})` : ''}`;
  });
  status.textContent = 'pqlkit is running. Click “Export report”.';
} catch (error) {
  status.textContent = `pqlkit could not start: ${error.message}`;
}
