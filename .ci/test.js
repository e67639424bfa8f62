// `npm test`: installs what is missing, then runs every layer, each named in the output.
// The last line is the plain summary `N passed, N failed` (tests counted where a runner reports
// them; a check such as rustfmt counts as one).
import { spawn } from 'node:child_process';
import { build } from './build.js';
import { report as sizeReport } from './size.js';
import { ensureSpark } from './spark.js';
import { ensureToolchain, root } from './tools.js';

const started = Date.now();
ensureToolchain({ browser: true });

const totals = { passed: 0, failed: 0 };
const layers = [];

/** Runs a command, echoing its output, and returns { code, text }. */
function exec(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const echo = (stream) => (chunk) => {
      text += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('error', (error) => resolve({ code: 127, text: String(error) }));
    child.on('close', (code) => resolve({ code: code ?? 1, text }));
  });
}

/** Test counts as reported by cargo / wasm-bindgen-test (`test result: ok. N passed; M failed`). */
function cargoCounts(text) {
  let passed = 0;
  let failed = 0;
  for (const m of text.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

/** Test counts as reported by node's test runner (`# pass N`, `# fail N`). */
function nodeCounts(text) {
  const pass = text.match(/^ℹ pass (\d+)$/m) ?? text.match(/^# pass (\d+)$/m);
  const fail = text.match(/^ℹ fail (\d+)$/m) ?? text.match(/^# fail (\d+)$/m);
  return { passed: Number(pass?.[1] ?? 0), failed: Number(fail?.[1] ?? 0) };
}

async function layer(name, command, args, { counts = null, env = {} } = {}) {
  console.log(`\n=== ${name} ===`);
  const t0 = Date.now();
  const { code, text } = await exec(command, args, env);
  let { passed, failed } = counts ? counts(text) : { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 };
  // A runner that crashed or exited non-zero without reporting a failure still failed.
  if (code !== 0 && failed === 0) failed = 1;
  totals.passed += passed;
  totals.failed += failed;
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  layers.push(`${code === 0 ? 'ok  ' : 'FAIL'} ${name}: ${passed} passed, ${failed} failed (${seconds} s)`);
}

await layer('rustfmt', 'cargo', ['fmt', '--check']);
await layer('clippy (native)', 'cargo', ['clippy', '--all-targets', '--', '-D', 'warnings']);
await layer('clippy (wasm32)', 'cargo', ['clippy', '--all-targets', '--all-features', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']);
// The two page builds' own cfgs, which `--all-features` above does not compile: the runtime
// (default features, no authoring) and the validator (no default `engine` feature).
await layer('clippy (wasm32, runtime build)', 'cargo', ['clippy', '--lib', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']);
await layer('clippy (wasm32, validator build)', 'cargo', ['clippy', '--lib', '--no-default-features', '--features', 'authoring', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']);
await layer('cargo test (Rust core)', 'cargo', ['test'], { counts: cargoCounts });
// Messages exist only in the authoring build, and only the lib's unit tests read them.
await layer('cargo test --features authoring,sql (messages, SQL builder)', 'cargo', ['test', '--features', 'authoring,sql', '--lib'], { counts: cargoCounts });

console.log('\n=== build (release package) ===');
const buildStarted = Date.now();
build();
layers.push(`ok   build: release package in ${((Date.now() - buildStarted) / 1000).toFixed(1)} s`);

await layer('wasm-bindgen tests (headless Chromium)', 'wasm-pack', ['test', '--headless', '--chrome'], {
  counts: cargoCounts,
  env: { CHROMEDRIVER: '/usr/bin/chromedriver', WASM_BINDGEN_TEST_TIMEOUT: '60' },
});
await layer('JS tests (node --test, built package)', 'node', ['--test', '--test-reporter=spec', 'tests/js/'], { counts: nodeCounts });
// pqlkit sql's spark dialect on Spark in local mode against DuckDB, bigquery/snowflake parsed
// by sqlglot: Java 17, pyspark and sqlglot are installed by ensureSpark when missing.
ensureSpark();
await layer('Spark local mode + sqlglot (pqlkit sql)', 'node', ['--test', '--test-reporter=spec', 'tests/spark/'], { counts: nodeCounts });
await layer('end-to-end (playwright-core + Chromium)', 'node', ['--test', '--test-concurrency=1', '--test-reporter=spec', 'tests/e2e/'], { counts: nodeCounts });
// Smoke apps: the packed tarball in fresh Vite, webpack, Next.js and script-tag apps (tests/smoke/).
await layer('smoke apps (Vite, webpack, Next.js, script tag, CSP)', 'node', ['--test', '--test-concurrency=1', '--test-reporter=spec', 'tests/smoke/'], { counts: nodeCounts });
await layer('tsc --noEmit (published types)', 'tsc', ['--noEmit', '-p', 'tests/types/tsconfig.json']);

console.log('\n=== size budget ===');
const sizeOk = sizeReport();
totals.passed += sizeOk ? 1 : 0;
totals.failed += sizeOk ? 0 : 1;
layers.push(`${sizeOk ? 'ok  ' : 'FAIL'} size budget`);

console.log('\n=== summary ===');
for (const line of layers) console.log(line);
console.log(`total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
