// `npm run build`: the release package in js/wasm (wasm-pack, then wasm-opt -Oz from npm binaryen).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureToolchain, mustRun, root, SIZE_TOOLCHAIN } from './tools.js';

const outDir = join(root, 'js', 'wasm');
// Optimised outputs keyed by the digest of wasm-bindgen's output: wasm-pack rewrites the
// unoptimised file on every run, and wasm-opt -Oz is the slow part of a warm build.
const cacheDir = join(root, 'target', 'wasm-opt-cache');

// The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must accept them.
const WASM_FEATURES = ['--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

export function build() {
  buildForPages('js/wasm', 'pqlkit');
  // The facade binds the runtime's imports itself (js/loader.js `instantiate`) and imports the
  // host functions from here: wasm-bindgen's own copy sits in a folder named after a hash of
  // the crate's name and version, which a release would change.
  copyFileSync(join(root, 'src', 'web', 'host.js'), join(outDir, 'host.js'));
  // pqlkit/validate's wasm: the checker with every message, built for size like the runtime.
  // A page fetches it on a refused rule set or in the playground, so it carries neither the
  // command line's backtest driver nor its SQL builder, nor the engine that runs a valid set
  // (the default feature `engine`: events, score, explanations, storage).
  buildForPages('js/wasm-validate', 'pqlkit_validate', ['--no-default-features', '--features', 'authoring']);
  // Pages bind both wasm files' imports with js/loader.js `instantiate`: wasm-bindgen's glue
  // for them, which nothing loads, would not match them after `importFromHost`.
  for (const [dir, name] of [['js/wasm', 'pqlkit'], ['js/wasm-validate', 'pqlkit_validate']]) {
    importFromHost(join(root, dir, name + '_bg.wasm'));
    rmSync(join(root, dir, name + '.js'), { force: true });
    rmSync(join(root, dir, 'snippets'), { recursive: true, force: true });
  }
  buildAuthoring();
  bundle();
}

/**
 * A wasm that pages download, in `outDir` as `name`: the `runtime` profile of Cargo.toml,
 * completed with the nightly-only settings that stable Cargo would refuse to read there (its
 * own std, and a panic that aborts at once), then `wasm-opt -Oz --converge` (repeated until
 * the file stops shrinking: 72 B gzip on the runtime, a few seconds, cached). `cargoFeatures`:
 * Cargo arguments that choose the features (none: the defaults).
 */
function buildForPages(outDir, name, cargoFeatures = []) {
  // Without reference types, wasm-bindgen keeps no table of JS values for the wasm (which
  // holds none: src/web/host.rs) and needs no start function to fill it: 74 B gzip. Without
  // location details, a panic (an abort here, whose message nobody reads) carries no file
  // names and lines: 66 B gzip. LLVM's inliner at a threshold of 12 instead of opt-level z's
  // own: small helpers inlined where the call cost more than the body (-343 B gzip of the
  // first load, -347 B of the validator; 6-15 all save, 20 and more save less, 50 grows it).
  // Target settings, not profile ones (stable Cargo reads no rustflags in a profile), so they
  // are given here with the other nightly settings.
  const nightlyOnly = [
    ...['-Z', 'build-std=std,panic_abort', '-Z', 'panic-immediate-abort', '--config', 'profile.runtime.panic="immediate-abort"'],
    ...['--config', 'target.wasm32-unknown-unknown.rustflags=["-C","target-feature=-reference-types","-Z","location-detail=none","-C","llvm-args=-inline-threshold=12"]'],
  ];
  mustRun('wasm-pack', ['--quiet', 'build', '--profile', 'runtime', '--target', 'web', '--out-dir', outDir, '--out-name', name, '--no-pack', '--no-typescript', '.', '--', ...nightlyOnly, ...cargoFeatures], {
    env: { ...process.env, RUSTUP_TOOLCHAIN: SIZE_TOOLCHAIN },
  });
  // wasm-pack leaves a `*` .gitignore in its output, which npm pack would obey and ship a
  // package without its wasm; the repository's own .gitignore keeps these folders out of git.
  rmSync(join(root, outDir, '.gitignore'), { force: true });
  // A function called from one place is inlined there only when tiny (20 B): the gzip of
  // the runtime shrinks (about 750 B; its repeated call sites compress better than the
  // inlined bodies), and the functions every call runs stay small for the browser's
  // optimising compiler, which compiles them while the page runs.
  // The memory is the module's own, so it starts zeroed; and the bottom 1 KiB is never used
  // (rustc puts the data at 1 MiB and the stack below it, growing down, and no recursion of
  // the core goes deep: JSON 128 levels, rules 32), so constant offsets fold into loads and
  // stores: 157 B gzip together.
  optimise(join(root, outDir, name + '_bg.wasm'), ['-Oz', '--converge', '--one-caller-inline-max-function-size', '20', '--zero-filled-memory', '--low-memory-unused']);
}

/**
 * Names a page wasm's imports as host.js names its functions, all in one module `host`, the
 * object js/loader.js `instantiate` passes. wasm-bindgen links a string-taking import as
 * `./<name>_bg.js` `__wbg_<name>_<hash>` (a shim of its glue) and the others under the path
 * of its copy of host.js, with the crate's hash: names for its glue, which pages do not use,
 * and incompressible to gzip (241 B of the first load).
 */
function importFromHost(file) {
  const wasm = readFileSync(file);
  const leb = (at) => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return [value, at];
    }
  };
  const uleb = (n) => {
    const out = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n);
    return Buffer.from(out);
  };
  const name = (text) => Buffer.concat([uleb(Buffer.byteLength(text)), Buffer.from(text)]);
  const parts = [wasm.subarray(0, 8)];
  for (let at = 8; at < wasm.length; ) {
    const id = wasm[at];
    const [size, start] = leb(at + 1);
    const end = start + size;
    if (id !== 2) {
      parts.push(wasm.subarray(at, end));
    } else {
      // An entry: module name, field name, then its kind and type, kept as they are.
      let [count, p] = leb(start);
      const entries = [uleb(count)];
      while (count--) {
        let length;
        [length, p] = leb(p);
        const from = wasm.toString('utf8', p, p + length);
        [length, p] = leb(p + length);
        const field = wasm.toString('utf8', p, p + length);
        p += length;
        if (wasm[p] !== 0) throw new Error(`pqlkit build: ${file} imports ${from} ${field}, not a function`);
        const [, after] = leb(p + 1);
        if (!/^\.\/\w+_bg\.js$/.test(from) && !from.endsWith('/src/web/host.js')) throw new Error(`pqlkit build: ${file} imports from ${from}`);
        entries.push(name('host'), name(field.replace(/^__wbg_|_[\da-f]{16}$/g, '')), wasm.subarray(p, after));
        p = after;
      }
      const body = Buffer.concat(entries);
      parts.push(Buffer.from([2]), uleb(body.length), body);
    }
    at = end;
  }
  writeFileSync(file, Buffer.concat(parts));
}

/**
 * wasm-opt with `passes`, in place, cached by the digest of its input and the passes. It is off
 * in Cargo.toml's wasm-pack metadata: the one wasm-pack would download is unreachable here,
 * and the npm one is newer than Debian's.
 */
function optimise(file, passes) {
  // Sections only tools read: names, producers, and the target features (wasm-bindgen reads
  // those before this step; a browser never does: 72 B gzip of the runtime).
  const args = [...passes, ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features'];
  const cached = join(cacheDir, createHash('sha256').update(readFileSync(file)).update(args.join(' ')).digest('hex') + '.wasm');
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    mustRun('wasm-opt', [...args, file, '-o', cached]);
  }
  copyFileSync(cached, file);
}

/**
 * The command line's build in js/wasm-authoring: the same crate with every validation message
 * (`--features authoring`), the backtest driver (`backtest`) and the SQL builder (`sql`). It
 * runs under Node over millions of events, so its profile (`release` in Cargo.toml) is
 * optimised for speed rather than size. Stable toolchain, prebuilt std. Pages never load it.
 */
export function buildAuthoring() {
  mustRun('wasm-pack', ['--quiet', 'build', '--release', '--target', 'web', '--out-dir', 'js/wasm-authoring', '--out-name', 'pqlkit_authoring', '--no-pack', '--no-typescript', '.', '--features', 'authoring,backtest,sql']);
  rmSync(join(root, 'js', 'wasm-authoring', '.gitignore'), { force: true });
  // -O3: about 15-20 % more events per second than rustc's output alone (measured A/B).
  optimise(join(root, 'js', 'wasm-authoring', 'pqlkit_authoring_bg.wasm'), ['-O3']);
}

/**
 * The browser entries, each one minified ES module next to the readable sources:
 * js/pqlkit.min.js (what every page loads: the facade, UI, outbox, tabs and the runtime's glue)
 * and js/validate.min.js (pqlkit/validate, with the authoring glue). The facade imports the
 * validator, the debug overlay (js/debug.js) and the Segment / PostHog batch formats
 * (js/formats.min.js, from js/formats.js) only when it needs them, by literal paths that
 * stay outside its bundle: one request for a first visit, and bundlers downstream see every
 * lazy part. The two bundles both carry js/core.js (1.7 KB gzip); a shared chunk instead cost
 * the first load a second request and 0.2 KB more.
 */
export function bundle() {
  // wasm-bindgen's glue names the host file's module twice in its import object (one entry per
  // group of imports); the duplicate key is harmless, and the warning is about generated code.
  const common = ['--bundle', '--format=esm', '--minify', '--target=es2022', '--legal-comments=none', '--log-level=warning', '--log-override:duplicate-object-key=silent'];
  mustRun('esbuild', ['js/index.js', ...common, '--external:./validate.min.js', '--external:./debug.js', '--external:./formats.min.js', '--outfile=js/pqlkit.min.js']);
  mustRun('esbuild', ['js/validate.js', ...common, '--outfile=js/validate.min.js']);
  mustRun('esbuild', ['js/formats.js', ...common, '--outfile=js/formats.min.js']);
  // terser over esbuild's output: its mangler names the most used variables shortest and
  // alike, which gzip rewards, and its second compress pass finds what one pass left
  // (js/pqlkit.min.js: -342 B gzip). Safe transforms only (no `unsafe` options),
  // and no function used once moved into its caller: terser writes it there as a function
  // expression called at once, a closure made on every call of the host functions the wasm
  // calls per event (keeping them apart costs 62 B gzip).
  for (const file of ['js/pqlkit.min.js', 'js/validate.min.js', 'js/formats.min.js']) {
    mustRun('terser', [file, '--module', '--ecma', '2022', '--compress', 'passes=2,reduce_funcs=false', '--mangle', '--output', file]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureToolchain();
  build();
  console.log('pqlkit: built js/wasm');
}
