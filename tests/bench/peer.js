#!/usr/bin/env node
// The peer workload of ../shared/peerbench (issue 14) on the built package, next to the
// project's own benchmarks in `npm run bench`: one run of its run-all.sh (GrowthBook, JS code
// generation and pqlkit through its public API, each in a fresh page of Debian's Chromium),
// then its table of ns per event. A script, not a test.
//
//   node tests/bench/peer.js            quick: R = 10, 100; N = 5000; 3 reps; no per-rule check (about 1 min)
//   node tests/bench/peer.js --full     the full run: R = 10, 100, 1000; N = 20000; every engine, checked (about 15 min)
//
// run-all.sh installs its own npm packages (playwright-core and the peers) in a copy of the
// folder, removed afterwards, so ../shared stays read-only. Skipped, with a message, where ../shared is absent.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, '..', 'shared', 'peerbench');
if (!existsSync(join(source, 'run-all.sh'))) {
  console.log(`pqlkit peer bench: skipped, ${source} is absent`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'pqlkit-peerbench-'));
cpSync(source, join(work, 'peerbench'), { recursive: true });
const out = join(work, 'out');
const quick = ['--R', '10,100', '--N', '5000', '--reps', '3', '--no-verify', '--engines', 'growthbook,js-codegen,pqlkit-native,pqlkit-native-noscore,pqlkit-traits'];
const args = [join(work, 'peerbench', 'run-all.sh'), root, out, ...(process.argv.includes('--full') ? [] : quick)];
console.log(`pqlkit peer bench: bash ${args.join(' ')}`);
const run = spawnSync('bash', args, { stdio: ['ignore', 'inherit', 'inherit'] });
console.log(`machine load: ${readFileSync(join(out, 'load.txt'), 'utf8').trim().replace(/\n/g, ' | ')}`);
// run.mjs exits 1 whenever a match count differs from the reference, which pqlkit-native's do
// by design (7-day windows in 6-hour buckets, see the peerbench README): the run failed only
// when it left no table.
const status = existsSync(join(out, 'summary-pq.md')) ? 0 : run.status || 1;
// The copy holds its own node_modules (playwright-core and the peers): about 100 MB.
rmSync(work, { recursive: true, force: true });
process.exit(status);
