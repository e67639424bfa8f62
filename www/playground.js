// The product manager's playground: edit a rule set, see every validation error at its path,
// simulate events and time, and watch score, explanations, prompts and beacons. It runs the
// very SDK the product ships (headless: ui 'none', memory storage, no autocapture).
import { init } from 'pqlkit';
import { parseDuration } from 'pqlkit/validate';
import { h } from './dom.js';

const $ = (id) => document.getElementById(id);
const START = Math.floor(Date.now() / 60000) * 60000;

const DEFAULT_CONTEXT = {
  user: { id: 'u_dana', traits: { plan: 'free', name: 'Dana', role: 'admin' } },
  account: { id: 'acme', traits: { name: 'Acme Inc.', company_size: 40, industry: 'software' } },
};
const DEFAULT_SCENARIO = `# Dana creates projects up to the free limit
track project_created
track project_created
track project_created
usage projects 4 5
track project_created
limitHit projects 5 5
wait 2h
# ...then compares plans twice
page /pricing
page /pricing
# ...starts the upgrade and leaves
track upgrade_started {"plan":"pro"}
wait 45m`;

const QUICK = [
  ['Pricing page view', ['page', '/pricing']],
  ['Feature: export', ['featureUsed', 'export']],
  ['Project created', ['track', 'project_created']],
  ['Limit hit: projects 5/5', ['limitHit', 'projects', { used: 5, limit: 5 }]],
  ['Invite sent', ['track', 'invite_sent']],
  ['Upgrade started', ['track', 'upgrade_started', { plan: 'pro' }]],
  ['Upgrade completed', ['track', 'upgrade_completed', { plan: 'pro' }]],
  ['Plan → pro', ['identify', 'u_dana', { plan: 'pro' }]],
  ['Plan → free', ['identify', 'u_dana', { plan: 'free' }]],
];

let clock = START;
let history = []; // [{ t, call: [method, ...args] }]
let pql = null;
let ruleSet = null;
let fired = { prompts: [], beacons: [] };
let generation = 0;

// ---------- DOM helpers (text only): www/dom.js ----------
const json = (v) => (v === undefined ? '' : JSON.stringify(v));
const fmtTime = (t) => new Date(t).toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fmtDelta = (ms) => {
  const m = Math.round(ms / 60000);
  if (m < 60) return `+${m}m`;
  const hrs = Math.floor(m / 60);
  return hrs < 48 ? `+${hrs}h${m % 60 ? ` ${m % 60}m` : ''}` : `+${Math.floor(hrs / 24)}d ${hrs % 24}h`;
};

// ---------- sharing: the hash holds rules, scenario and context, deflated and base64url ----------
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}
async function encodeState() {
  const raw = new TextEncoder().encode(JSON.stringify({ rules: $('rules').value, scenario: $('scenario').value, context: $('context').value }));
  if (typeof CompressionStream === 'function') return 'z=' + b64url(await pipe(raw, new CompressionStream('deflate-raw')));
  return 'j=' + b64url(raw);
}
async function decodeState(hash) {
  const m = /^#?(z|j)=([\w-]+)$/.exec(hash);
  if (!m) return null;
  try {
    let bytes = unb64url(m[2]);
    if (m[1] === 'z') bytes = await pipe(bytes, new DecompressionStream('deflate-raw'));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
let shareTimer = 0;
function scheduleShare() {
  clearTimeout(shareTimer);
  shareTimer = setTimeout(async () => history_.replaceState(null, '', '#' + (await encodeState())), 400);
}
const history_ = window.history;

// ---------- validation + engine ----------
function showErrors(errors) {
  const list = $('errors');
  list.replaceChildren(...errors.map((e) => h('li', { class: 'error', 'data-path': e.path || '' },
    h('code', { class: 'path' }, e.path || '(rule set)'), h('span', { class: 'code' }, e.code), h('span', { class: 'msg' }, e.message))));
  const v = $('validity');
  if (errors.length) {
    renderAll();
    v.textContent = `${errors.length} error${errors.length > 1 ? 's' : ''}`;
    v.className = 'badge bad';
  }
  $('rules').setAttribute('aria-invalid', String(errors.length > 0));
}

function jsonError(text, error) {
  // Point at line:column when the browser tells the offset.
  const at = /position (\d+)/.exec(error.message);
  let where = '';
  if (at) {
    const before = text.slice(0, Number(at[1])).split('\n');
    where = ` (line ${before.length}, column ${before.at(-1).length + 1})`;
  }
  return { code: 'invalid_json', path: '', message: `This is not valid JSON${where}: ${error.message}` };
}

async function rebuild() {
  const mine = ++generation;
  const text = $('rules').value;
  let rules, context;
  try {
    rules = JSON.parse(text);
  } catch (error) {
    return showErrors([jsonError(text, error)]);
  }
  try {
    context = JSON.parse($('context').value || '{}');
  } catch (error) {
    return showErrors([{ ...jsonError($('context').value, error), path: 'user and account' }]);
  }
  // One engine at a time: the previous one goes first (it also hands over the leader role that
  // lets an instance act on time-driven changes; the short wait lets the browser grant it).
  pql?.destroy();
  pql = null;
  let next;
  try {
    next = await init({ rules, storage: 'memory', ui: 'none', autocapture: false, now: () => clock, user: context.user, account: context.account });
  } catch (error) {
    if (mine === generation) showErrors(error.errors?.length ? error.errors : [{ code: error.code ?? 'error', path: error.path ?? '', message: error.message }]);
    return;
  }
  await new Promise((r) => setTimeout(r, 30));
  if (mine !== generation) return next.destroy();
  pql = next;
  ruleSet = rules;
  showErrors([]);
  $('validity').textContent = `Valid · ${rules.rules.length} rule${rules.rules.length === 1 ? '' : 's'}`;
  $('validity').className = 'badge ok';
  fired = { prompts: [], beacons: [] };
  pql.on('prompt', (p) => fired.prompts.unshift({ ...p, at: clock }));
  pql.on('beacon', (b) => fired.beacons.unshift(b));
  // Replay the history on the new rules at the times it happened.
  const now = clock;
  for (const step of history) {
    clock = step.t;
    apply(step.call);
  }
  clock = now;
  pql.score();
  renderAll();
}

function apply([method, ...args]) {
  if (!pql) return;
  if (method === 'wait') pql.score();
  else if (method === 'identify' || method === 'group') pql[method](args[0], args[1]);
  else pql[method](...args);
}

function record(call) {
  history.push({ t: clock, call });
  apply(call);
  renderAll();
}

function advance(ms) {
  clock += ms;
  history.push({ t: clock, call: ['wait', ms] });
  pql?.score(); // lets the SDK apply deadlines and windows at the new time
  renderAll();
}

// ---------- scenario ----------
function parseStep(line, n) {
  const m = /^(\w+)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`line ${n}: cannot read "${line}"`);
  const [, op, rest] = m;
  const parts = rest.match(/^(\S+)?\s*(.*)$/);
  const first = parts[1];
  const tail = parts[2].trim();
  const props = (s) => {
    if (!s) return {};
    try {
      return JSON.parse(s);
    } catch {
      throw new Error(`line ${n}: the properties are not JSON: ${s}`);
    }
  };
  switch (op) {
    case 'page': return ['page', first || '/', props(tail)];
    case 'track': if (!first) throw new Error(`line ${n}: track needs an event name`); return ['track', first, props(tail)];
    case 'feature': return ['featureUsed', first, props(tail)];
    case 'limitHit': { const [used, limit] = tail.split(/\s+/).map(Number); return ['limitHit', first, { used, limit }]; }
    case 'usage': { const [used, max] = tail.split(/\s+/).map(Number); return ['usage', first, used, max]; }
    case 'identify': return ['identify', first === 'null' ? null : first, props(tail)];
    case 'group': return ['group', first === 'null' ? null : first, props(tail)];
    case 'wait': return ['wait', first ?? '', n];
    default: throw new Error(`line ${n}: unknown step "${op}" (use page, track, feature, limitHit, usage, identify, group or wait)`);
  }
}

async function runScenario() {
  $('scenario-error').textContent = '';
  let steps;
  try {
    steps = $('scenario').value.split('\n').map((l, i) => [l.trim(), i + 1]).filter(([l]) => l && !l.startsWith('#')).map(([l, n]) => parseStep(l, n));
    // Durations are read by the core, as in rule sets.
    for (const step of steps) {
      if (step[0] !== 'wait') continue;
      const [, text, n] = step;
      step[1] = await parseDuration(text);
      if (step[1] === null) throw new Error(`line ${n}: write a duration such as "wait 30m" or "wait 2d"`);
    }
  } catch (error) {
    $('scenario-error').textContent = error.message;
    return;
  }
  history = [];
  clock = START;
  await rebuild();
  for (const call of steps) {
    if (call[0] === 'wait') advance(call[1]);
    else record(call);
  }
  renderAll();
}

// ---------- rendering ----------
function node(n, label) {
  if (!n) return null;
  const head = h('div', { class: 'node-head' },
    h('span', { class: n.matched ? 'mark yes' : 'mark no', 'aria-label': n.matched ? 'matched' : 'not matched' }, n.matched ? '✓' : '✗'),
    label ? h('span', { class: 'node-label' }, label) : null,
    h('span', { class: 'op' }, n.op),
    n.signal !== undefined ? h('code', { class: 'signal' }, json(n.signal)) : null);
  const kids = [head];
  if (n.actual !== undefined || n.expected !== undefined) {
    kids.push(h('div', { class: 'values' },
      h('span', {}, h('span', { class: 'muted' }, 'actual '), h('code', { class: 'actual' }, json(n.actual))),
      h('span', {}, h('span', { class: 'muted' }, 'expected '), h('code', { class: 'expected' }, json(n.expected)))));
  }
  if (n.children?.length) kids.push(h('div', { class: 'children' }, n.children.map((c) => node(c))));
  return h('div', { class: `node ${n.matched ? 'matched' : 'unmatched'}`, 'data-op': n.op }, kids);
}

function renderExplain() {
  const box = $('explain');
  if (!pql || !ruleSet) return box.replaceChildren(h('p', { class: 'empty' }, 'Fix the rule set to see explanations.'));
  const score = pql.score();
  const byId = new Map(score.rules.map((r) => [r.id, r]));
  box.replaceChildren(...ruleSet.rules.map((rule) => {
    const x = pql.explain(rule.id);
    if (!x) return null;
    const f = x.frequency ?? {};
    const freq = f.blocked
      ? h('span', { class: 'badge warn', title: 'What would hold a prompt back now' }, `blocked: ${f.blocked}${f.until ? ` until ${fmtTime(f.until)}` : ''}`)
      : h('span', { class: 'badge' }, 'frequency: free to show');
    return h('details', { class: 'rule', 'data-rule': rule.id, open: true },
      h('summary', {},
        h('span', { class: x.matched ? 'badge ok' : 'badge' }, x.matched ? 'matches' : 'no match'),
        h('strong', {}, rule.id), rule.kind ? h('span', { class: 'kind' }, rule.kind) : null,
        h('span', { class: 'pts' }, `+${byId.get(rule.id)?.score ?? 0} / ${rule.score ?? 0}`)),
      h('div', { class: 'rule-body' },
        rule.description ? h('p', { class: 'muted desc' }, rule.description) : null,
        freq,
        x.trigger ? h('div', { class: 'trigger' }, h('span', { class: 'muted' }, 'trigger '), h('code', {}, json(x.trigger))) : null,
        x.audience ? node(x.audience, 'audience') : h('p', { class: 'muted small' }, 'audience: everyone'),
        x.when ? node(x.when, 'when') : h('p', { class: 'muted small' }, 'when: always')));
  }));
}

function renderPrompts() {
  const box = $('prompts');
  if (!fired.prompts.length) return box.replaceChildren(h('p', { class: 'empty' }, 'No prompt has fired yet.'));
  box.replaceChildren(...fired.prompts.map((p) => h('article', { class: `prompt prompt-${p.style}`, 'data-style': p.style, 'data-prompt': p.id },
    h('div', { class: 'prompt-meta' }, h('span', { class: 'badge info' }, p.style + (p.slot ? ` · ${p.slot}` : '')), h('span', { class: 'muted' }, `${p.id} ← ${p.rule ?? 'score'} · ${fmtTime(p.at)}`)),
    h('h4', {}, p.title), p.body ? h('p', {}, p.body) : null,
    h('div', { class: 'prompt-actions' },
      p.dismiss || p.style === 'modal' || p.style === 'inline' ? h('span', { class: 'fake-btn ghost' }, p.dismiss || 'Not now') : null,
      p.cta ? h('span', { class: 'fake-btn', title: p.cta.url }, p.cta.label) : null))));
}

function renderBeacons() {
  const box = $('beacons');
  if (!fired.beacons.length) return box.replaceChildren(h('li', { class: 'empty' }, 'No beacon yet.'));
  box.replaceChildren(...fired.beacons.map((b) => h('li', {}, h('span', { class: 'badge info' }, b.type), ' ', h('strong', {}, b.rule ?? 'score threshold'), ' ',
    h('span', { class: 'muted' }, `score ${b.score}${b.tier ? ` · ${b.tier}` : ''} · ${fmtTime(b.timestamp)}`), h('code', { class: 'signals' }, json(b.signals)))));
}

function renderHistory() {
  $('history-count').textContent = history.length ? `(${history.length})` : '';
  const box = $('history');
  if (!history.length) return box.replaceChildren(h('li', { class: 'empty' }, 'Nothing simulated yet.'));
  box.replaceChildren(...history.slice().reverse().map(({ t, call: [m, ...args] }) => h('li', {},
    h('span', { class: 'when' }, fmtDelta(t - START)),
    m === 'wait' ? h('span', { class: 'muted' }, `time passes (${fmtDelta(args[0])})`) : h('span', {}, h('strong', {}, m), ' ', h('code', {}, args.map(json).join(' '))))));
}

function renderAll() {
  $('clock').textContent = `${fmtTime(clock)} (${clock === START ? 'start' : fmtDelta(clock - START)})`;
  renderHistory();
  if (!pql) {
    for (const id of ['score', 'tier', 'threshold']) $(id).textContent = '–';
    $('qualified').textContent = 'Rules invalid';
    $('qualified').className = 'badge bad';
    for (const id of ['explain', 'prompts']) $(id).replaceChildren(h('p', { class: 'empty' }, 'Fix the errors in the rule set to see results.'));
    $('beacons').replaceChildren();
    return;
  }
  const s = pql.score();
  $('score').textContent = String(s.score);
  $('tier').textContent = s.tier ?? '–';
  $('threshold').textContent = ruleSet?.scoring?.threshold != null ? String(ruleSet.scoring.threshold) : '–';
  const q = $('qualified');
  q.textContent = s.qualified ? 'Qualified lead' : 'Not qualified';
  q.className = s.qualified ? 'badge ok' : 'badge';
  renderExplain();
  renderPrompts();
  renderBeacons();
}

// ---------- wiring ----------
let editTimer = 0;
const edited = () => {
  clearTimeout(editTimer);
  $('validity').textContent = 'Checking…';
  $('validity').className = 'badge';
  editTimer = setTimeout(rebuild, 250);
  scheduleShare();
};
$('rules').addEventListener('input', edited);
$('context').addEventListener('input', edited);
$('scenario').addEventListener('input', scheduleShare);
$('rules').addEventListener('keydown', (e) => {
  if (e.key !== 'Tab' || e.shiftKey) return; // Tab indents; Shift+Tab / Escape leave the editor
  e.preventDefault();
  document.execCommand('insertText', false, '  ');
});
$('run').addEventListener('click', runScenario);
$('clear').addEventListener('click', async () => {
  history = [];
  clock = START;
  await rebuild();
});
for (const b of document.querySelectorAll('[data-advance]')) b.addEventListener('click', () => advance(Number(b.dataset.advance)));
$('quick').replaceChildren(...QUICK.map(([label, call]) => h('button', { type: 'button', class: 'btn', onclick: () => record(structuredClone(call)) }, label)));
$('free').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('free-name').value.trim();
  let props = {};
  try {
    props = JSON.parse($('free-props').value.trim() || '{}');
  } catch {
    $('free-error').textContent = 'Properties must be a JSON object, e.g. {"format": "csv"}';
    return;
  }
  $('free-error').textContent = '';
  if (name) record(['track', name, props]);
});
$('share').addEventListener('click', async () => {
  history_.replaceState(null, '', '#' + (await encodeState()));
  try {
    await navigator.clipboard.writeText(location.href);
    $('share').textContent = 'Link copied';
  } catch {
    $('share').textContent = 'Link in the address bar';
  }
  setTimeout(() => ($('share').textContent = 'Copy share link'), 2000);
});
async function loadDefault() {
  $('rules').value = await (await fetch('/rules/default.json')).text();
  scheduleShare();
}
$('load-default').addEventListener('click', async () => {
  await loadDefault();
  await rebuild();
});

const shared = await decodeState(location.hash);
if (shared) {
  $('rules').value = shared.rules ?? '';
  $('scenario').value = shared.scenario ?? DEFAULT_SCENARIO;
  $('context').value = shared.context ?? JSON.stringify(DEFAULT_CONTEXT, null, 2);
} else {
  await loadDefault();
  $('scenario').value = DEFAULT_SCENARIO;
  $('context').value = JSON.stringify(DEFAULT_CONTEXT, null, 2);
}
await rebuild();
renderAll();
window.playground = { get pql() { return pql; }, rebuild, runScenario, advance, ready: true };
