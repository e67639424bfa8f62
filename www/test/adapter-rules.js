// What the Segment and PostHog fixtures share: a free user of a company of 10 or more who views
// the pricing page twice (an `intent` beacon) and exports CSV twice (a toast and a `feature`
// beacon; `exportAudience` adds conditions to that rule), and the SDK's events in window.events.
export function adapterRules(exportAudience = {}) {
  const free = { plan: 'free', 'account.company_size': { $gte: 10 } };
  return {
    version: 1,
    pages: { pricing: '/pricing*' },
    rules: [
      { id: 'pricing-revisits', kind: 'intent', audience: free, when: { event: 'page_view', where: { page: 'pricing' }, count: 2 }, score: 20, actions: [{ beacon: 'intent' }] },
      { id: 'exports', kind: 'feature', audience: { ...free, ...exportAudience }, when: { event: 'report_exported', where: { format: 'csv' }, count: 2 }, score: 40, actions: [{ prompt: 'pro' }, { beacon: 'feature' }] },
    ],
    prompts: { pro: { style: 'toast', title: 'Export more with Pro', body: 'Scheduled CSV exports.', cta: { label: 'Upgrade', url: '/upgrade' }, dismiss: 'Later' } },
  };
}

export function recordEvents(pql) {
  window.events = [];
  for (const name of ['prompt', 'prompt:shown', 'beacon', 'error']) pql.on(name, (e) => window.events.push({ name, id: e?.id, type: e?.type, rule: e?.rule, code: e?.code }));
}
