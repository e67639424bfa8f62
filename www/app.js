// Acme Projects: a small SaaS on the free plan that embeds pqlkit the way a product team would,
// through the public package API only. App state lives in localStorage (projects, team, plan);
// pqlkit keeps its own state. The demo clock (sessionStorage) lets you move time forward.
import { init } from 'pqlkit';
import { $, h } from './dom.js';

const LIMIT = 5;
const STATE_KEY = 'acme:state';
const OFFSET_KEY = 'acme:demo-offset';
const USER_ID = 'u_dana';
const HOUR = 3600000;
const DAY = 24 * HOUR;

// ---------- app state ----------
const seed = () => ({
  plan: 'free',
  projects: [
    { id: 'p1', name: 'Website redesign', color: 0, tasks: 18, done: 11, created: Date.now() - 9 * DAY },
    { id: 'p2', name: 'Q3 roadmap', color: 1, tasks: 9, done: 2, created: Date.now() - 3 * DAY },
  ],
  team: [
    { name: 'Dana Kim', email: 'dana@acme.test', role: 'Owner' },
  ],
  invites: [],
});
function load() {
  try {
    const s = JSON.parse(localStorage.getItem(STATE_KEY));
    if (s && Array.isArray(s.projects) && Array.isArray(s.team) && Array.isArray(s.invites)) return s;
  } catch {}
  return seed();
}
let state = load();
const save = () => localStorage.setItem(STATE_KEY, JSON.stringify(state));
save();

// ---------- demo clock ----------
let offset = Number(sessionStorage.getItem(OFFSET_KEY)) || 0;
const now = () => Date.now() + offset;

// ---------- DOM helpers (text only): www/dom.js ----------
const SVGNS = 'http://www.w3.org/2000/svg';
function icon(d, cls = 'icon') {
  const s = document.createElementNS(SVGNS, 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('class', cls);
  s.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS(SVGNS, 'path');
  p.setAttribute('d', d);
  s.append(p);
  return s;
}
const I = {
  plus: 'M12 5v14M5 12h14',
  download: 'M12 4v11m0 0l-4-4m4 4l4-4M5 20h14',
  lock: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z',
  check: 'M5 12.5l4.5 4.5L19 7',
  mail: 'M3 6h18v12H3zM3 7l9 6 9-6',
  folder: 'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
  spark: 'M12 3l2.2 5.8L20 11l-5.8 2.2L12 19l-2.2-5.8L4 11l5.8-2.2z',
};

let pql = null;

// ---------- notices (the app's own, top right) ----------
function notify(text, kind = 'info') {
  const last = $('#notices').lastElementChild;
  if (last?.textContent === text && !last.classList.contains('out')) last.remove(); // the same notice again: restart it
  const n = h('div', { class: `notice notice-${kind}`, role: 'status' }, icon(kind === 'ok' ? I.check : kind === 'lock' ? I.lock : I.spark), h('span', {}, text));
  $('#notices').append(n);
  while ($('#notices').children.length > 2) $('#notices').firstChild.remove();
  setTimeout(() => n.classList.add('out'), 3200);
  setTimeout(() => n.remove(), 3600);
}

// ---------- router ----------
const ROUTES = { '/': dashboard, '/projects': projects, '/team': team, '/pricing': pricing, '/upgrade': upgrade, '/settings/billing': billing };
const TITLES = { '/': 'Dashboard', '/projects': 'Projects', '/team': 'Team', '/pricing': 'Pricing', '/upgrade': 'Upgrade to Pro', '/settings/billing': 'Billing' };
function navigate(to) {
  const url = new URL(to, location.href);
  if (url.pathname + url.search === location.pathname + location.search) return;
  // The title first: pqlkit's page view (on pushState) records it.
  document.title = `${TITLES[url.pathname.replace(/\/+$/, '') || '/'] ?? 'Page not found'} · Acme Projects`;
  history.pushState({}, '', url.pathname + url.search + url.hash);
  render();
  window.scrollTo(0, 0);
}
addEventListener('popstate', render);
// Same-origin links (ours and the CTA of pqlkit's prompts, inside their shadow roots) stay in the SPA.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.composedPath().find((n) => n instanceof HTMLAnchorElement);
  if (!a || a.target === '_blank' || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (url.origin !== location.origin || !(path in ROUTES)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

function render() {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const view = ROUTES[path] ?? notFound;
  const main = $('#view');
  main.replaceChildren(view());
  for (const a of document.querySelectorAll('[data-nav]')) {
    const n = a.getAttribute('data-nav');
    const on = n === '/' ? path === '/' : path.startsWith(n);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  chrome();
}

function chrome() {
  const pro = state.plan === 'pro';
  const used = state.projects.length;
  $('#plan-badge').textContent = pro ? 'Pro plan' : 'Free plan';
  $('#plan-badge').classList.toggle('pro', pro);
  $('#top-upgrade').hidden = pro;
  $('#usage-count').textContent = pro ? `${used}` : `${used} / ${LIMIT}`;
  $('#usage-bar').style.width = pro ? '100%' : `${Math.min(100, (used / LIMIT) * 100)}%`;
  $('#usage-meter').classList.toggle('full', !pro && used >= LIMIT);
  $('#usage-meter').setAttribute('aria-valuenow', String(used));
  $('#usage-note').textContent = pro ? 'Pro: unlimited projects' : used >= LIMIT ? 'Limit reached on Free' : `${LIMIT - used} left on Free`;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  document.title = `${TITLES[path] ?? 'Page not found'} · Acme Projects`;
}

// ---------- actions ----------
function createProject(name) {
  const used = state.projects.length;
  if (state.plan !== 'pro' && used >= LIMIT) {
    pql?.limitHit('projects', { used, limit: LIMIT });
    notify(`Free includes ${LIMIT} projects. Upgrade to Pro for unlimited projects.`, 'lock');
    return false;
  }
  const project = { id: 'p' + Math.random().toString(36).slice(2, 8), name, color: used % 6, tasks: 0, done: 0, created: now() };
  state.projects.push(project);
  save();
  pql?.track('project_created', { project: project.id });
  if (state.plan !== 'pro') {
    pql?.usage('projects', used + 1, LIMIT);
    if (used + 1 >= LIMIT) pql?.limitHit('projects', { used: used + 1, limit: LIMIT });
  }
  notify(`Project “${name}” created`, 'ok');
  return true;
}

function exportProjects() {
  // The Export buttons carry data-pqlkit-feature="export": pqlkit counts each click by itself.
  if (state.plan === 'pro') notify(`Exported ${state.projects.length} projects to acme-projects.csv`, 'ok');
  else notify('Export is a Pro feature. Upgrade to export to CSV, PDF and Sheets.', 'lock');
}

function setPlan(plan) {
  state.plan = plan;
  save();
  // The audience of every prompt rule is plan ∈ {free, trial}: on Pro, pqlkit stops prompting.
  pql?.identify(USER_ID, { plan });
  chrome();
}

// ---------- views ----------
const COLORS = ['#6366f1', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6'];
const initials = (s) => s.split(/\s+/).map((w) => w[0]).join('').slice(0, 2).toUpperCase();
const link = (href, cls, ...kids) => h('a', { href, class: cls }, ...kids);
const exportButton = (label) =>
  h('button', { type: 'button', class: 'btn btn-secondary', 'data-pqlkit-feature': 'export', onclick: exportProjects }, icon(I.download), label, state.plan === 'pro' ? null : h('span', { class: 'pro-tag' }, 'PRO'));

function pageHead(title, sub, ...actions) {
  return h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, title), sub ? h('p', { class: 'sub' }, sub) : null), h('div', { class: 'page-actions' }, ...actions));
}

function projectCard(p) {
  const pct = p.tasks ? Math.round((p.done / p.tasks) * 100) : 0;
  return h('li', { class: 'project' },
    h('span', { class: 'project-icon', style: `background:${COLORS[p.color % COLORS.length]}` }, initials(p.name)),
    h('div', { class: 'project-main' },
      h('strong', {}, p.name),
      h('span', { class: 'muted' }, p.tasks ? `${p.done} of ${p.tasks} tasks done` : 'No tasks yet')),
    h('div', { class: 'project-progress', 'aria-label': `${pct}% done` }, h('span', { style: `width:${pct}%` })));
}

function newProjectForm() {
  const input = h('input', { type: 'text', name: 'name', placeholder: 'e.g. Mobile app launch', 'aria-label': 'Project name', required: true, maxlength: 60, autocomplete: 'off' });
  return h('form', { class: 'new-project', onsubmit: (e) => {
    e.preventDefault();
    const name = input.value.trim() || `Project ${state.projects.length + 1}`;
    if (createProject(name)) {
      input.value = '';
      render();
      $('.new-project input')?.focus();
    }
  } }, input, h('button', { type: 'submit', class: 'btn btn-primary' }, icon(I.plus), 'New project'));
}

function dashboard() {
  const used = state.projects.length;
  const pro = state.plan === 'pro';
  const tasks = state.projects.reduce((n, p) => n + p.tasks, 0);
  const done = state.projects.reduce((n, p) => n + p.done, 0);
  return h('div', {},
    pageHead('Good morning, Dana', 'Here is what is happening at Acme Inc. this week.', exportButton('Export report'), link('/projects', 'btn btn-primary', icon(I.plus), 'New project')),
    h('section', { class: 'stats' },
      stat('Projects', pro ? String(used) : `${used} / ${LIMIT}`, pro ? 'Unlimited on Pro' : `${Math.max(0, LIMIT - used)} left on Free`),
      stat('Tasks done', `${done}`, `${tasks - done} open`),
      stat('Teammates', String(state.team.length + state.invites.length), state.invites.length ? `${state.invites.length} invited` : 'Invite your team'),
      stat('Plan', pro ? 'Pro' : 'Free', pro ? 'Thanks for upgrading' : 'Upgrade anytime')),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', {}, 'Recent projects'), link('/projects', 'text-link', 'View all')),
        h('ul', { class: 'projects' }, state.projects.slice(-4).reverse().map(projectCard))),
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', {}, 'Weekly report')),
        h('p', { class: 'muted' }, 'Progress across every project, ready to share with stakeholders.'),
        h('div', { class: 'bars', 'aria-hidden': 'true' }, [40, 62, 35, 80, 56, 90, 72].map((v, i) => h('span', { style: `height:${v}%` }, h('i', {}, 'MTWTFSS'[i])))),
        h('p', { class: 'muted small' }, pro ? 'Exports include CSV, PDF and Google Sheets.' : 'Exporting reports is part of Pro.'))));
}
function stat(label, value, hint) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('strong', { class: 'stat-value' }, value), h('span', { class: 'stat-hint' }, hint));
}

function projects() {
  const used = state.projects.length;
  const pro = state.plan === 'pro';
  const full = !pro && used >= LIMIT;
  return h('div', {},
    pageHead('Projects', pro ? `${used} projects · unlimited on Pro` : `${used} of ${LIMIT} projects on the Free plan`, exportButton('Export')),
    h('section', { class: 'card' },
      newProjectForm(),
      full ? h('div', { class: 'callout' }, icon(I.lock), h('span', {}, `You've reached the ${LIMIT}-project limit of the Free plan. `), link('/pricing', 'text-link', 'Compare plans')) : null,
      h('ul', { class: 'projects projects-list' }, state.projects.slice().reverse().map(projectCard))));
}

function team() {
  const email = h('input', { type: 'email', name: 'email', placeholder: 'teammate@acme.test', 'aria-label': 'Email address', required: true, autocomplete: 'off' });
  const role = h('select', { 'aria-label': 'Role' }, h('option', {}, 'Editor'), h('option', {}, 'Viewer'));
  const form = h('form', { class: 'invite', onsubmit: (e) => {
    e.preventDefault();
    const to = email.value.trim();
    if (!to) return;
    state.invites.push({ email: to, role: role.value, sent: now() });
    save();
    notify(`Invitation sent to ${to}`, 'ok');
    render();
    $('.invite input')?.focus();
  } }, email, role, h('button', { type: 'submit', class: 'btn btn-primary', 'data-pqlkit-event': 'invite_sent' }, icon(I.mail), 'Send invite'));
  const row = (name, mail, roleName, pending) => h('li', { class: 'member' },
    h('span', { class: 'avatar avatar-sm' + (pending ? ' pending' : '') }, initials(name)),
    h('div', { class: 'project-main' }, h('strong', {}, name), h('span', { class: 'muted' }, mail)),
    h('span', { class: 'tag' + (pending ? ' tag-warn' : '') }, pending ? 'Invited' : roleName));
  return h('div', {},
    pageHead('Team', 'Invite the people you work with. Free includes 3 editors.'),
    h('section', { class: 'card' }, form,
      h('ul', { class: 'members' },
        state.team.map((m) => row(m.name, m.email, m.role, false)),
        state.invites.map((m) => row(m.email.split('@')[0], m.email, m.role, true)))));
}

function pricing() {
  const pro = state.plan === 'pro';
  const plan = (name, price, per, blurb, features, cta, featured) => h('article', { class: 'plan' + (featured ? ' featured' : '') },
    featured ? h('span', { class: 'ribbon' }, 'Most popular') : null,
    h('h2', {}, name), h('p', { class: 'price' }, h('strong', {}, price), h('span', {}, per)), h('p', { class: 'muted' }, blurb),
    cta, h('ul', { class: 'features' }, features.map((f) => h('li', {}, icon(I.check), f))));
  return h('div', {},
    h('div', { class: 'pricing-head' }, h('h1', {}, 'Plans that grow with your team'), h('p', { class: 'sub' }, 'Start free. Upgrade when you need more projects, exports and teammates.')),
    h('div', { class: 'plans' },
      plan('Free', '$0', '/ forever', 'For individuals getting organised.', [`${LIMIT} projects`, '3 editors', 'Basic reports'],
        h('span', { class: 'btn btn-secondary btn-block disabled' }, pro ? 'Downgrade in Billing' : 'Current plan'), false),
      plan('Pro', '$12', '/ user / month', 'For teams that ship together.', ['Unlimited projects', 'Export to CSV, PDF, Sheets', 'Unlimited editors', 'Version history'],
        pro ? h('span', { class: 'btn btn-primary btn-block disabled' }, 'Current plan') : link('/upgrade?plan=pro&from=pricing', 'btn btn-primary btn-block', 'Upgrade to Pro'), true),
      plan('Business', 'Custom', '', 'For organisations with advanced needs.', ['SSO and SCIM', 'Audit log', 'Dedicated success manager'],
        link('https://example.com/sales', 'btn btn-secondary btn-block', 'Contact sales'), false)),
    h('p', { class: 'muted center small' }, 'Prices in USD, billed annually. Cancel anytime.'));
}

function upgrade() {
  if (state.plan === 'pro') {
    return h('div', { class: 'narrow' }, h('section', { class: 'card center success' }, icon(I.check, 'icon big'), h('h1', {}, 'You are on Pro'), h('p', { class: 'muted' }, 'Unlimited projects, exports and teammates are unlocked.'), link('/', 'btn btn-primary', 'Back to dashboard')));
  }
  // Opening the checkout starts the upgrade flow; leaving it without paying is what the
  // abandoned-upgrade rule (notFollowedBy within 30m) notices.
  const from = new URLSearchParams(location.search).get('from');
  pql?.track('upgrade_started', { plan: 'pro', ...(from ? { from } : {}) });
  const seats = h('input', { type: 'number', min: 1, max: 500, value: String(Math.max(1, state.team.length + state.invites.length)), 'aria-label': 'Seats', class: 'seats' });
  const total = h('strong', {});
  const update = () => (total.textContent = `$${(Math.max(1, Number(seats.value) || 1) * 12 * 12).toLocaleString('en-US')} / year`);
  seats.addEventListener('input', update);
  update();
  const field = (label, attrs) => h('label', { class: 'field' }, h('span', {}, label), h('input', attrs));
  return h('div', { class: 'narrow' },
    pageHead('Upgrade to Pro', 'Unlimited projects, exports and teammates for Acme Inc.'),
    h('div', { class: 'checkout' },
      h('form', { class: 'card', id: 'checkout', onsubmit: (e) => {
        e.preventDefault();
        pql?.track('upgrade_completed', { plan: 'pro', seats: Number(seats.value) || 1 });
        setPlan('pro');
        notify('Welcome to Pro! Every limit is lifted.', 'ok');
        render();
      } },
        h('h2', {}, 'Payment details'),
        field('Name on card', { value: 'Dana Kim', autocomplete: 'off' }),
        field('Card number', { value: '4242 4242 4242 4242', inputmode: 'numeric', autocomplete: 'off' }),
        h('div', { class: 'row' }, field('Expiry', { value: '12 / 29', autocomplete: 'off' }), field('CVC', { value: '123', autocomplete: 'off' })),
        h('div', { class: 'form-actions' }, link('/pricing', 'btn btn-ghost', 'Cancel'), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm and upgrade'))),
      h('aside', { class: 'card summary' },
        h('h2', {}, 'Pro · annual'),
        h('label', { class: 'field inline' }, h('span', {}, 'Seats'), seats),
        h('ul', { class: 'features' }, ['Unlimited projects', 'Exports', 'Version history'].map((f) => h('li', {}, icon(I.check), f))),
        h('div', { class: 'total' }, h('span', {}, 'Total'), total))));
}

function billing() {
  const pro = state.plan === 'pro';
  return h('div', { class: 'narrow' },
    pageHead('Billing', 'Manage your plan and invoices.'),
    h('section', { class: 'card billing' },
      h('div', {}, h('span', { class: 'stat-label' }, 'Current plan'), h('h2', { id: 'current-plan' }, pro ? 'Pro · $12 / user / month' : 'Free · $0'),
        h('p', { class: 'muted' }, pro ? 'Unlimited projects, exports and teammates.' : `${LIMIT} projects, 3 editors, basic reports.`)),
      pro
        ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'downgrade', onclick: () => { setPlan('free'); notify('You are back on the Free plan'); render(); } }, 'Switch to Free')
        : link('/upgrade?plan=pro&from=billing', 'btn btn-primary', 'Switch to Pro')),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Invoices')),
      pro
        ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Date'), h('th', {}, 'Description'), h('th', {}, 'Amount'))),
          h('tbody', {}, h('tr', {}, h('td', {}, new Date(now()).toLocaleDateString('en-US', { dateStyle: 'medium' })), h('td', {}, 'Acme Projects Pro, annual'), h('td', {}, '$144.00'))))
        : h('p', { class: 'muted' }, 'No invoices yet. You are on the Free plan.')));
}

function notFound() {
  return h('div', { class: 'narrow center' }, h('h1', {}, 'Page not found'), h('p', { class: 'muted' }, 'That page does not exist.'), link('/', 'btn btn-primary', 'Go to dashboard'));
}

// ---------- demo bar: status, activity, clock ----------
const status = $('#status');
const log = $('#log');
let logged = 0;
function note(text) {
  log.prepend(h('li', {}, h('time', {}, new Date(now()).toLocaleTimeString('en-GB')), ' ', text));
  while (log.children.length > 60) log.lastChild.remove();
  $('#activity-count').textContent = String(++logged);
}
function showScore() {
  if (!pql) return;
  const { score, tier, qualified } = pql.score();
  const el = $('#score');
  el.textContent = `Score ${score}${tier ? ` · ${tier}` : ''}`;
  el.dataset.tier = tier ?? '';
  el.title = qualified ? 'Qualified lead' : 'Not qualified yet';
}
function showClock() {
  const hrs = Math.round(offset / HOUR);
  $('#clock').textContent = offset ? `+${hrs >= 24 ? `${Math.floor(hrs / 24)}d ${hrs % 24}h` : `${hrs}h`}` : 'now';
}
function advance(ms) {
  offset += Number(ms) || 0;
  sessionStorage.setItem(OFFSET_KEY, String(offset));
  showClock();
  // score() lets the SDK apply what time changed (windows, notFollowedBy deadlines).
  pql?.score();
  showScore();
  note(`demo clock moved to ${offset ? '+' : ''}${$('#clock').textContent}`);
}
for (const b of document.querySelectorAll('[data-advance]')) b.addEventListener('click', () => advance(Number(b.dataset.advance)));
$('#clock-reset').addEventListener('click', () => advance(-offset));
$('#activity-toggle').addEventListener('click', (e) => {
  const open = log.hidden;
  log.hidden = !open;
  e.currentTarget.setAttribute('aria-expanded', String(open));
});
$('#reset-demo').addEventListener('click', () => {
  pql?.reset();
  state = seed();
  save();
  offset = 0;
  sessionStorage.removeItem(OFFSET_KEY);
  location.assign('/');
});

// ---------- start ----------
render();
showClock();

try {
  pql = await init({
    rules: '/rules/default.json',
    user: { id: USER_ID, traits: { plan: state.plan, name: 'Dana', role: 'admin' } },
    account: { id: 'acme', traits: { name: 'Acme Inc.', company_size: 40, industry: 'software' } },
    collector: { url: '/pql/collect' },
    now,
    debug: new URLSearchParams(location.search).has('pqlkit_debug'),
  });
  window.pql = pql;
  window.demo = { pql, advance, state: () => state };
  pql.on('rule:fired', (e) => {
    note(`rule "${e.rule}" fired, score ${e.score}, tier ${e.tier ?? 'none'}`);
    status.textContent = `Signal: rule "${e.rule}" fired`;
    status.dataset.state = 'fired';
    showScore();
  });
  pql.on('qualified', (e) => {
    if (e.reason !== 'score') return; // a rule's firing: rule:fired above
    note(`qualified lead: score ${e.score} reached the threshold, tier ${e.tier ?? 'none'}`);
    status.textContent = `Qualified lead: score ${e.score}`;
    status.dataset.state = 'qualified';
    showScore();
  });
  pql.on('prompt', (p) => note(`prompt "${p.id}" (${p.style}) from ${p.rule ?? 'score'}`));
  pql.on('prompt:dismissed', (p) => (note(`prompt "${p.id}" dismissed`), makeRoomForBanner(p, false)));
  pql.on('prompt:clicked', (p) => (note(`prompt "${p.id}" clicked`), makeRoomForBanner(p, false)));
  pql.on('prompt:shown', (p) => makeRoomForBanner(p, true));
  pql.on('beacon', (b) => note(`beacon "${b.type}" for ${b.rule ?? 'score'} (id ${b.id.slice(0, 8)}…)`));
  pql.on('error', (e) => note(`error: ${e.code}: ${e.message}`));
  if (state.plan !== 'pro') pql.usage('projects', state.projects.length, LIMIT);
  status.textContent = 'pqlkit is running';
  showScore();
  render(); // a direct load of /upgrade starts the flow now that pqlkit is there
} catch (error) {
  status.textContent = `pqlkit could not start: ${error.message}`;
  status.dataset.state = 'error';
}

// A banner overlays the top of the page: push the page down by its height while it shows.
function makeRoomForBanner(prompt, shown) {
  if (prompt.style !== 'banner') return;
  requestAnimationFrame(() => {
    const card = document.querySelector('pqlkit-prompt[data-style="banner"]')?.shadowRoot?.querySelector('[role="region"]');
    document.body.classList.toggle('has-banner', shown);
    document.body.style.paddingTop = shown && card ? `${card.offsetHeight}px` : '';
  });
}
