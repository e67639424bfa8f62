// `npm run size`: raw, gzip and brotli bytes of what a browser downloads, part by part.
// The first load is what every page fetches: the package's browser entry, js/pqlkit.min.js (with
// anything it still imports statically), and the wasm. It is checked against size-budget.json
// (`totalGzipBytes`); tests/e2e/first-load.test.js measures the same bytes as Chromium receives
// them (`firstLoadGzipBytes`). The lazy parts, fetched only when asked for, are printed on their
// own, each against its own budget (`lazyGzipBytes`, by part name): the debug overlay, the Segment
// / PostHog batch formats and the validator (`pqlkit/validate` with its wasm). A lazy part has a
// budget too because nothing else would notice it growing back: the validator's wasm was twice
// its size while its build still carried the engine.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { root } from './tools.js';

const budgetFile = join(root, '.ci', 'size-budget.json');
const js = (...path) => join(root, 'js', ...path);

// Static imports and re-exports, also minified ones (`import{a}from"./x.js"`, `export*from"./y.js"`)
// and side-effect imports (`import "./z.js"`); `import(...)` is dynamic, hence lazy, and not followed.
const STATIC_IMPORT = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{][^;'"]*?\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** The entry and every file reachable from it through relative static imports (absent ones included, to be reported). */
export function staticGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!existsSync(file)) return;
    for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) visit(join(dirname(file), match[1]));
  };
  visit(entry);
  return [...seen];
}

/** The first load's files, absolute: the bundle, its static imports, the runtime wasm. */
export function firstLoadFiles() {
  return [...staticGraph(js('pqlkit.min.js')), js('wasm', 'pqlkit_bg.wasm')];
}

/** The lazy parts, each `{ name, files }`; a file already in the first load is cached by then and left out. */
export function lazyParts(firstLoad = firstLoadFiles()) {
  const loaded = new Set(firstLoad);
  const validator = [...staticGraph(js('validate.min.js')), js('wasm-validate', 'pqlkit_validate_bg.wasm')];
  return [
    { name: 'debug overlay', files: staticGraph(js('debug.js')) },
    { name: 'segment / posthog batch formats', files: staticGraph(js('formats.min.js')) },
    { name: 'validator', files: validator },
  ].map((part) => ({ ...part, files: part.files.filter((f) => !loaded.has(f)) }));
}

/** Raw, gzip-9 and brotli-11 bytes: each file is its own response, so each is compressed on its own. */
export function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const ZERO = { raw: 0, gzip: 0, brotli: 0 };

function measureFiles(files) {
  const rows = files.map((file) => ({ file: relative(root, file), built: existsSync(file), ...(existsSync(file) ? measure(readFileSync(file)) : ZERO) }));
  return { files: rows, total: rows.reduce(add, ZERO), built: rows.every((r) => r.built) };
}

/**
 * `{ wasm, js, total, files }` of the first load (as before: the wasm, the JS files summed, both
 * together, the JS files one by one), plus `firstLoad` (every file, wasm included) and `lazy`
 * (`{ name, files, total, built }` per lazy part, its entry first; `built` is false when any of its files is absent).
 */
export function sizes() {
  const wasmFile = js('wasm', 'pqlkit_bg.wasm');
  const firstLoad = measureFiles(firstLoadFiles());
  const wasm = firstLoad.files.find((f) => f.file === relative(root, wasmFile));
  const jsRows = firstLoad.files.filter((f) => f !== wasm);
  return {
    wasm: { raw: wasm.raw, gzip: wasm.gzip, brotli: wasm.brotli },
    js: jsRows.reduce(add, ZERO),
    total: firstLoad.total,
    files: jsRows,
    firstLoad,
    lazy: lazyParts().map((part) => ({ name: part.name, ...measureFiles(part.files) })),
  };
}

export function report() {
  const s = sizes();
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8'));
  const n = (v) => String(v.toLocaleString('en-US')).padStart(9);
  const row = (name, m) => console.log(`  ${name.padEnd(44)} ${m.built === false ? '  not built' : `${n(m.raw)} ${n(m.gzip)} ${n(m.brotli)}`}`);
  console.log(`  ${'bytes'.padEnd(44)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`);
  console.log('first load (every page)');
  for (const f of s.firstLoad.files) row(f.file, f);
  row('total', s.total);
  for (const part of s.lazy) {
    console.log(`lazy: ${part.name} (only when asked for)`);
    if (!part.files[0]?.built) {
      // The part's entry is absent: nothing of it can load (a wasm it would use may exist for the CLI).
      console.log(`  not built (${part.files[0]?.file ?? 'its entry'} absent)`);
      continue;
    }
    for (const f of part.files) row(f.file, f);
    row(part.built ? 'total' : 'total (of the files built)', part.total);
  }
  const missing = s.firstLoad.files.filter((f) => !f.built);
  if (missing.length) console.log(`first load incomplete: ${missing.map((f) => f.file).join(', ')} absent`);
  let lazyOk = true;
  for (const part of s.lazy) {
    const limit = budget.lazyGzipBytes?.[part.name];
    if (limit === undefined || !part.built) continue;
    const within = part.total.gzip <= limit;
    lazyOk &&= within;
    console.log(`budget: lazy ${part.name} ${part.total.gzip} B gzip of ${limit} (${within ? 'within' : 'OVER'})`);
  }
  // The first load's verdict is its own: a lazy part over its budget says so on its line above.
  const firstLoadOk = missing.length === 0 && s.total.gzip <= budget.totalGzipBytes;
  const goal = budget.goalGzipBytes;
  console.log(`budget: first load ${s.total.gzip} B gzip of ${budget.totalGzipBytes} (${firstLoadOk ? 'within' : 'OVER'}); product goal ${goal} B (${s.total.gzip <= goal ? 'met' : `not met, ${s.total.gzip - goal} B over`})`);
  return firstLoadOk && lazyOk;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(report() ? 0 : 1);
}
