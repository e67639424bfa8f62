// The React fixture of tests/e2e/react.test.js, bundled by esbuild with the real react and
// react-dom (development build, so StrictMode mounts, unmounts and mounts every effect) and
// pqlkit/react; `pqlkit` itself comes from /pqlkit/ through the import map of www/test/adapters.html.
// `?ui=none` renders prompts headlessly with usePrompt and a PqlkitSlot render function;
// `?client=1` passes an instance made with init instead of options; `?hydrate=1` hydrates a
// server render of the app.
import { StrictMode, useEffect, useState, version } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server.browser';
import { init } from 'pqlkit';
import { PqlkitProvider, PqlkitSlot, usePqlkit, usePrompt, useScore } from 'pqlkit/react';

const query = new URLSearchParams(location.search);
const headless = query.get('ui') === 'none';
const free = { plan: { $in: ['free', 'trial'] } };
const rules = {
  version: 1,
  rules: [
    {
      id: 'exports',
      kind: 'feature',
      audience: free,
      when: { event: 'feature_used', where: { feature: 'export' }, count: 3 },
      score: 40,
      actions: [{ prompt: 'pro' }, { beacon: 'feature' }],
    },
    {
      id: 'invites',
      kind: 'intent',
      audience: free,
      when: { event: 'invite_sent', count: 1 },
      score: 25,
      actions: [{ prompt: 'team' }],
    },
  ],
  scoring: { threshold: 60, tiers: { warm: 30, hot: 60 } },
  prompts: {
    pro: { style: headless ? 'toast' : 'modal', title: 'Export more with Pro', body: 'Unlimited exports.', cta: { label: 'Upgrade', url: '/upgrade' }, dismiss: 'Not now' },
    team: { style: 'inline', slot: 'sidebar', title: 'Invite your whole team', body: 'Team plan: unlimited seats.', cta: { label: 'Start team trial', url: '/team' } },
  },
};

// What the test reads: what the SDK emitted and every value the score hook rendered (and, from
// www/test/init-counter.js, how often init ran).
window.events = [];
window.renders = [];
window.reactVersion = version;
const options = {
  rules,
  user: { id: 'u_42', traits: { plan: 'free' } },
  collector: { url: '/pql/collect' },
  ui: headless ? 'none' : 'default',
};
const proOptions = { ...options, user: { id: 'u_42', traits: { plan: 'pro' } } };
// `?client=1`: the app starts pqlkit itself and hands the instance to the provider.
const client = query.has('client') ? await init(options) : undefined;

function Score() {
  const { score, tier, qualified } = useScore();
  const line = `${score} ${tier} ${qualified}`;
  window.renders.push(line);
  return <output id="score">{line}</output>;
}

function Events() {
  const pql = usePqlkit();
  useEffect(() => {
    if (!pql) return;
    window.pql = pql;
    const offs = ['prompt', 'prompt:shown', 'prompt:clicked', 'prompt:dismissed', 'qualified', 'beacon', 'error'].map((name) => pql.on(name, (e) => window.events.push({ name, id: e?.id, rule: e?.rule, code: e?.code })));
    return () => offs.forEach((off) => off());
  }, [pql]);
  return <p id="ready">{pql ? 'ready' : 'starting'}</p>;
}

function Toast() {
  const prompt = usePrompt({ style: 'toast' });
  return prompt && <ToastCard prompt={prompt} />;
}

// Reports itself shown on mount: StrictMode runs this effect twice, the hook counts it once.
function ToastCard({ prompt }) {
  useEffect(() => prompt.shown(), []);
  return (
    <div role="dialog" aria-label={prompt.title} id="toast">
      <h2>{prompt.title}</h2>
      <p>{prompt.body}</p>
      <button onClick={prompt.dismissed}>{prompt.dismiss}</button>
      <a href={prompt.cta.url} onClick={(e) => (e.preventDefault(), prompt.clicked())}>{prompt.cta.label}</a>
    </div>
  );
}

function App() {
  const [plan, setPlan] = useState('free');
  return (
    <PqlkitProvider client={client} options={plan === 'free' ? options : proOptions}>
      <Events />
      <Score />
      <button id="export" data-pqlkit-feature="export">Export</button>
      <button id="invite" data-pqlkit-event="invite_sent">Invite</button>
      <button id="upgrade" onClick={() => setPlan('pro')}>Switch to Pro</button>
      {headless && <Toast />}
      {headless ? (
        <PqlkitSlot name="sidebar" id="sidebar">
          {(p) => (
            <section id="inline">
              <h3>{p.title}</h3>
              <button onClick={p.clicked}>{p.cta.label}</button>
            </section>
          )}
        </PqlkitSlot>
      ) : (
        <PqlkitSlot name="sidebar" id="sidebar" />
      )}
    </PqlkitProvider>
  );
}

const app = (
  <StrictMode>
    <App />
  </StrictMode>
);
const container = document.getElementById('root');
let root;
if (query.has('hydrate')) {
  // What a server sends (react-dom/server's render of the same tree), then hydrated: React
  // reports any difference between the two as a console error.
  container.innerHTML = window.serverHtml = renderToString(app);
  root = hydrateRoot(container, app);
} else {
  root = createRoot(container);
  root.render(app);
}
window.unmount = () => root.unmount();
