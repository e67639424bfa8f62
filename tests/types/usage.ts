// Compiles only if the published types describe the documented API (PRODUCT.md §3).
import { init, evalCondition, PqlkitError } from '../../js/index.js';
import type { Beacon, Explanation, Pqlkit, QualifiedEvent, RuleSet } from '../../js/index.js';

const rules: RuleSet = {
  version: 1,
  pages: { pricing: '/pricing*' },
  rules: [
    {
      id: 'pricing-revisits',
      kind: 'intent',
      audience: { plan: { $in: ['free', 'trial'] } },
      when: { all: [{ event: 'page_view', where: { page: 'pricing' }, count: { $gte: 2 }, within: '7d' }] },
      score: 30,
      actions: [{ prompt: 'talk-to-us' }, { beacon: 'intent' }],
      frequency: { cooldown: '3d', maxShows: 3 },
    },
  ],
  prompts: { 'talk-to-us': { style: 'toast', title: 'Comparing plans?', cta: { label: 'Book', url: '/meet' } } },
};

async function main(): Promise<void> {
  const pql: Pqlkit = await init({ rules, storage: 'memory', consent: 'granted', ui: 'none', now: () => Date.now() });
  pql.track('report_exported', { format: 'csv' });
  pql.featureUsed('export');
  pql.limitHit('projects', { used: 5, limit: 5 });
  pql.usage('seats', 4, 5);
  const off = pql.on('qualified', (e: QualifiedEvent) => e.score + 1);
  pql.on('beacon', (b: Beacon) => b.id.length);
  pql.on('error', (e: PqlkitError) => e.code);
  off();
  const why: Explanation | null = pql.explain('pricing-revisits');
  const blocked: string | null | undefined = why?.frequency.blocked;
  const { score, tier, qualified } = pql.score();
  const ok: boolean = await evalCondition({ plan: 'free' }, { plan: 'free' });
  await pql.flush();
  pql.destroy();
  void [blocked, score, tier, qualified, ok];
}

void main;

// pqlkit/validate: the authoring validator.
import { validate } from '../../js/validate.js';
async function validation() {
  const report = await validate(rules);
  const valid: boolean = report.valid;
  for (const problem of report.errors) {
    const where: string = problem.path;
    const what: string = problem.code;
    console.log(valid, where, what, problem.message);
  }
}
void validation;
