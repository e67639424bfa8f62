// The demo's web server: serves www/ and the built package under /pqlkit/, and runs the beacon
// collector (POST /pql/collect, GET /pql/beacons). `npm start` runs it; the end-to-end tests
// start their own on a free port.
import { appendFileSync, createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beaconType, POSTHOG_EVENT_PREFIX, readPosthog, readSegment, SEGMENT_EVENT_PREFIX } from '../js/formats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const MAX_BODY_BYTES = 1 << 20;

/** Text and wasm go out gzip-compressed (level 9) to clients that accept it, as a CDN would serve the package. */
const GZIP_TYPES = new Set(['.js', '.mjs', '.css', '.wasm', '.json', '.html']);
const gzipCache = new Map(); // file -> { mtimeMs, size, body }

function acceptsGzip(req) {
  for (const part of String(req.headers['accept-encoding'] ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

/** The file gzip-compressed, compressed once per file and modification time. */
function gzipped(file) {
  const { mtimeMs, size } = statSync(file);
  const hit = gzipCache.get(file);
  if (hit && hit.mtimeMs === mtimeMs && hit.size === size) return hit.body;
  const body = gzipSync(readFileSync(file), { level: 9 });
  gzipCache.set(file, { mtimeMs, size, body });
  return body;
}

/** Files under `base` only: `..` in a URL never escapes it. */
function safeJoin(base, urlPath) {
  const path = normalize(join(base, decodeURIComponent(urlPath)));
  return path === base || path.startsWith(base + sep) ? path : null;
}

/** The request's body as text, to `done`; a body past MAX_BODY_BYTES destroys the request. */
function readBody(req, done) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function send(res, status, body, type = 'application/json; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Beacons arrive as pqlkit batches, Segment batches or PostHog batches (js/beacons.js documents
 * the three bodies); all become one list of pqlkit beacons with their original `id` (Segment
 * `messageId`, PostHog `properties.pqlkit_id`), so the collector deduplicates whatever the format.
 */
export function beaconsOf(body) {
  if (Array.isArray(body)) return body;
  if (Array.isArray(body?.beacons)) return body.beacons;
  if (Array.isArray(body?.batch)) {
    return body.batch.map((item) => {
      if (item?.messageId !== undefined) {
        const m = readSegment(item);
        return {
          ...m.props,
          id: item.messageId,
          type: m.props.type ?? beaconType(m.name, SEGMENT_EVENT_PREFIX) ?? m.name ?? '',
          userId: m.userId,
          anonymousId: m.anonymousId,
          accountId: m.props.accountId ?? m.accountId,
          timestamp: m.timestamp,
          via: 'segment',
        };
      }
      const e = readPosthog(item);
      const { pqlkit_id, ...props } = e.props;
      return {
        ...props,
        id: pqlkit_id ?? item?.uuid,
        type: props.type ?? beaconType(e.name, POSTHOG_EVENT_PREFIX) ?? e.name ?? '',
        accountId: props.accountId ?? e.accountId,
        timestamp: e.timestamp,
        via: 'posthog',
      };
    });
  }
  return body && typeof body === 'object' ? [body] : [];
}

/** The README's preload of the runtime's wasm, for the package served at /pqlkit/. */
const WASM_PRELOAD = '</pqlkit/wasm/pqlkit_bg.wasm>; rel=preload; as=fetch; type=application/wasm; crossorigin';

/**
 * `wwwDir` is served at `/` and `packageDir` (the package's js/ folder) at `/pqlkit/`; the smoke
 * apps serve their own build and the installed package instead. `csp`: a
 * Content-Security-Policy sent with every response.
 */
export function startServer({ port = 8080, host = '127.0.0.1', dataDir = join(root, 'www', 'data'), wwwDir = join(root, 'www'), packageDir = join(root, 'js'), csp, packageCache = 'no-cache' } = {}) {
  mkdirSync(dataDir, { recursive: true });
  const store = join(dataDir, 'beacons.ndjson');
  const seen = new Map();
  if (existsSync(store)) {
    for (const line of readFileSync(store, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const beacon = JSON.parse(line);
        seen.set(beacon.id, beacon);
      } catch {
        // A torn last line from a crash is skipped, not fatal.
      }
    }
  }
  const stats = { received: 0, duplicates: 0 };
  const sdkRequests = [];
  const mode = { collector: 'ok' }; // tests switch it to 'error' (500), 'slow' (3 s) or 'refuse' (socket destroyed)

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/pql/collect' && req.method === 'POST') {
      if (mode.collector === 'refuse') return req.socket.destroy();
      if (mode.collector === 'error') return send(res, 500, '{"error":"collector switched to failure"}');
      readBody(req, (text) => {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          return send(res, 400, '{"error":"body is not JSON"}');
        }
        let accepted = 0;
        for (const beacon of beaconsOf(body)) {
          stats.received += 1;
          if (typeof beacon?.id !== 'string' || seen.has(beacon.id)) {
            stats.duplicates += 1;
            continue;
          }
          const record = { ...beacon, receivedAt: Date.now() };
          seen.set(beacon.id, record);
          appendFileSync(store, JSON.stringify(record) + '\n');
          accepted += 1;
        }
        const reply = () => send(res, 200, JSON.stringify({ accepted }));
        if (mode.collector === 'slow') setTimeout(reply, 3000);
        else reply();
      });
      return;
    }
    if (url.pathname === '/pql/beacons' && req.method === 'GET') {
      return send(res, 200, JSON.stringify({ beacons: [...seen.values()], ...stats }));
    }
    // The analytics SDKs pqlkit/segment and pqlkit/posthog plug into (Segment's analytics.js,
    // posthog-js) are pointed here in tests: POST /sdk/<name>/<their path> answers 200 `{}` and
    // keeps { sdk, path, body } (JSON when it parses, else text); GET /sdk/requests lists them.
    const sdk = url.pathname.match(/^\/sdk\/([\w-]+)(\/.*)$/);
    if (sdk && url.pathname !== '/sdk/requests' && req.method === 'POST') {
      readBody(req, (text) => {
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {}
        sdkRequests.push({ sdk: sdk[1], path: sdk[2], query: url.search, body });
        send(res, 200, '{}');
      });
      return;
    }
    if (url.pathname === '/sdk/requests' && req.method === 'GET') return send(res, 200, JSON.stringify(sdkRequests));
    if (url.pathname === '/pql/collector-mode' && req.method === 'POST') {
      mode.collector = url.searchParams.get('mode') ?? 'ok';
      return send(res, 200, JSON.stringify(mode));
    }
    let file;
    if (url.pathname.startsWith('/pqlkit/')) file = safeJoin(packageDir, url.pathname.slice('/pqlkit/'.length));
    else file = safeJoin(wwwDir, url.pathname);
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !existsSync(file)) {
      // Single-page app: unknown paths without an extension get the demo's shell.
      if (!extname(url.pathname)) file = join(wwwDir, 'index.html');
      else return send(res, 404, 'not found', 'text/plain');
    }
    // no-cache with a validator, as a CDN serves files that may change: a page asks again and a
    // copy in its HTTP cache is used on a 304. `packageCache` may serve the package as a
    // bundler's hashed files are served, `max-age=31536000, immutable`: a later page asks nothing
    // (tests/bench/browser.js measures both).
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return send(res, 404, 'not found', 'text/plain'); // removed by a rebuild since existsSync
    }
    const { size, mtimeMs } = stat;
    const compressible = GZIP_TYPES.has(extname(file));
    const gzip = compressible && acceptsGzip(req);
    const etag = `W/"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}${gzip ? '-gz' : ''}"`;
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': url.pathname.startsWith('/pqlkit/') ? packageCache : 'no-cache', etag };
    // Test fixtures under /test/ can be served under a Content-Security-Policy: `?csp=<policy>`.
    if (url.pathname.startsWith('/test/') && url.searchParams.has('csp')) headers['content-security-policy'] = url.searchParams.get('csp');
    if (csp) headers['content-security-policy'] = csp;
    // `?preload-wasm` on a page: the runtime's wasm named in a Link header, as the README tells a
    // site to send it, so that its download starts with the page's and not after the script.
    if (url.searchParams.has('preload-wasm') && extname(file) === '.html') headers.link = WASM_PRELOAD;
    if (compressible) headers.vary = 'Accept-Encoding';
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    if (gzip) {
      let body;
      try {
        body = gzipped(file);
      } catch {
        return send(res, 404, 'not found', 'text/plain'); // removed by a rebuild since existsSync
      }
      res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolvePromise({ server, port: address.port, url: `http://localhost:${address.port}`, dataDir, store, mode, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? process.argv[2] ?? 8080);
  startServer({ port }).then(({ url, store }) => {
    console.log(`pqlkit demo: ${url}`);
    console.log(`collector: POST ${url}/pql/collect, stored in ${store}`);
  });
}
