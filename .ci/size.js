// `npm run size`: raw, gzip and brotli bytes of everything a browser downloads — the wasm and
// the package's browser entry, js/pqlkit.min.js (with anything it still imports statically) —
// checked against size-budget.json.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { root } from './tools.js';

const budgetFile = join(root, '.ci', 'size-budget.json');

/** Files reachable from the entry through static `import ... from './x.js'` (dynamic imports are Node-only paths). */
function browserJs(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      visit(join(dirname(file), match[1]));
    }
  };
  visit(entry);
  return [...seen];
}

function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

export function sizes() {
  const wasm = measure(readFileSync(join(root, 'js', 'wasm', 'pqlkit_bg.wasm')));
  const jsFiles = browserJs(join(root, 'js', 'pqlkit.min.js'));
  // Compressed as one stream would be over-optimistic; each file is its own response.
  const perFile = jsFiles.map((file) => ({ file: relative(root, file), ...measure(readFileSync(file)) }));
  const js = perFile.reduce((sum, f) => ({ raw: sum.raw + f.raw, gzip: sum.gzip + f.gzip, brotli: sum.brotli + f.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  const total = { raw: wasm.raw + js.raw, gzip: wasm.gzip + js.gzip, brotli: wasm.brotli + js.brotli };
  return { wasm, js, total, files: perFile };
}

export function report() {
  const s = sizes();
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8'));
  const row = (name, m) => `${name.padEnd(28)} ${String(m.raw).padStart(8)} ${String(m.gzip).padStart(8)} ${String(m.brotli).padStart(8)}`;
  console.log(`${'bytes'.padEnd(28)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
  console.log(row('js/wasm/pqlkit_bg.wasm', s.wasm));
  for (const f of s.files) console.log(row(f.file, f));
  console.log(row('js (all of the above)', s.js));
  console.log(row('total', s.total));
  const ok = s.total.gzip <= budget.totalGzipBytes;
  console.log(`budget: total gzip ${s.total.gzip} of ${budget.totalGzipBytes} bytes (${ok ? 'within' : 'OVER'}; the product goal is ${budget.goalGzipBytes})`);
  return ok;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(report() ? 0 : 1);
}
