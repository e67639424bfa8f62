// Nothing about pqlkit: the smoke apps share one node_modules in tests/smoke, and the
// repository's own lockfile above it would otherwise be taken for the workspace root.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export default { turbopack: { root }, outputFileTracingRoot: root };
