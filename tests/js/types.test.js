// The published types as a customer's TypeScript sees them: the packed tarball installed into a
// scratch project, imported by name (through the package's `exports`), with strict tsc over
// tests/types/usage.ts (its `@ts-expect-error` lines must each be an error), over every `js`
// example of the README, verbatim, and over the facade itself: the shipped js/index.js is
// `// @ts-check` (its JSDoc takes its types from index.d.ts), and the types tsc infers for it
// must be assignable to those index.d.ts declares.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installPacked, pack, root } from './pack.js';

/** The README's ```js blocks, in order. */
function readmeExamples(markdown = readFileSync(join(root, 'README.md'), 'utf8')) {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function tsc(project) {
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (error) {
    return error.stdout + error.stderr;
  }
}

test('tsc accepts the documented use through exports, rejects each misuse, the README examples verbatim, and the facade matches its .d.ts', () => {
  const app = join(pack().dir, 'types-app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'types-app', private: true, type: 'module' }));
  installPacked(app);
  cpSync(join(root, 'tests', 'types', 'usage.ts'), join(app, 'usage.ts'));

  const examples = readmeExamples();
  assert.ok(examples.length >= 1, 'the README has js examples');
  // The host SDKs the Segment and PostHog examples import: the real packages, as the
  // repository's devDependencies installed them.
  for (const name of new Set(examples.flatMap((code) => [...code.matchAll(/from '((?:@[\w-]+\/)?[\w-]+)/g)].map((m) => m[1])))) {
    if (name === 'pqlkit') continue;
    mkdirSync(join(app, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name));
  }
  const files = ['usage.ts', 'global-reference.ts'];
  const readmeFiles = [];
  // A page without a bundler: the script-tag build's global, by a reference.
  writeFileSync(join(app, 'global-reference.ts'), `/// <reference types="pqlkit/global" />\nexport const start = () => window.pqlkit.init({ rules: '/pql/rules.json' });\n`);
  examples.forEach((code, i) => {
    // Each example is a module of its own (top-level await needs one).
    writeFileSync(join(app, `readme-${i + 1}.ts`), /^\s*(import|export)\b/m.test(code) ? code : code + '\nexport {};\n');
    readmeFiles.push(`readme-${i + 1}.ts`);
  });

  // The shipped JavaScript, without its .d.ts (which tsc would otherwise read instead).
  const shipped = join(app, 'node_modules', 'pqlkit', 'js');
  const facade = join(app, 'facade');
  mkdirSync(join(facade, 'wasm'), { recursive: true });
  for (const file of readdirSync(shipped)) if (file.endsWith('.js')) cpSync(join(shipped, file), join(facade, file));
  cpSync(join(shipped, 'wasm', 'host.js'), join(facade, 'wasm', 'host.js'));
  writeFileSync(
    join(app, 'facade-check.ts'),
    `import * as facade from './facade/index.js';
import type * as api from 'pqlkit';
// The implementation is assignable to its declaration: every declared method exists on the
// instance init resolves to, with parameters the declaration's callers may pass.
export const init: typeof api.init = facade.init;
export const evalCondition: typeof api.evalCondition = facade.evalCondition;
export const instance = (pql: Awaited<ReturnType<typeof facade.init>>): api.Pqlkit => pql;
`,
  );
  const compilerOptions = { strict: true, noEmit: true, allowJs: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], skipLibCheck: false, types: [] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  // The README's examples are browser code: compiled as a bundler-based app compiles them.
  writeFileSync(join(app, 'tsconfig.readme.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'ESNext', moduleResolution: 'Bundler' }, files: readmeFiles }));
  // The facade (js/index.js, `// @ts-check`) without strict's implicit-any rule: its JSDoc types
  // the boundary (options, errors, the UI's callbacks), the rest is inferred.
  writeFileSync(join(app, 'tsconfig.facade.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, strict: false }, files: ['facade-check.ts'] }));
  assert.equal(tsc(app), '', 'tsc reports nothing');
  assert.equal(tsc(join(app, 'tsconfig.readme.json')), '', 'tsc reports nothing on the README examples');
  assert.equal(tsc(join(app, 'tsconfig.facade.json')), '', 'tsc reports nothing on the facade');
  // A code the facade passes that index.d.ts does not document is reported.
  const index = join(facade, 'index.js');
  writeFileSync(index, readFileSync(index, 'utf8').replace("new PqlkitError('storage_full'", "new PqlkitError('storage_is_full'"));
  assert.match(tsc(join(app, 'tsconfig.facade.json')), /index\.js\(\d+,\d+\): error TS2345: Argument of type '"storage_is_full"'/);

  // The check can fail: a misuse without its @ts-expect-error is reported.
  writeFileSync(join(app, 'usage.ts'), readFileSync(join(app, 'usage.ts'), 'utf8').replace("// @ts-expect-error: `ui` is 'default' or 'none'\n", ''));
  assert.match(tsc(app), /usage\.ts\(\d+,\d+\): error TS2322: Type '"headless"' is not assignable/);
});
