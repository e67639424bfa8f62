// `npm start`: install what is missing, build the release package, serve the demo and collector.
import { build } from './build.js';
import { ensureToolchain } from './tools.js';

const started = Date.now();
ensureToolchain();
build();
const { startServer } = await import('../www/server.js');
const port = Number(process.env.PORT ?? process.argv[2] ?? 8080);
const { url, store } = await startServer({ port, host: process.env.HOST ?? '0.0.0.0' });
console.log(`pqlkit: built and serving in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`pqlkit demo: ${url}`);
console.log(`collector: POST ${url}/pql/collect — beacons appended to ${store}`);
