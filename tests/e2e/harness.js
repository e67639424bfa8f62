// Shared by the end-to-end tests: a real server on a free port, Debian's Chromium driven by
// playwright-core, and screenshots saved under tests/artifacts/ for people to look at.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../www/server.js';

export const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts the demo server (with its own data directory) and a browser; `close()` stops both. */
export async function launch() {
  const dataDir = mkdtempSync(join(tmpdir(), 'pqlkit-e2e-'));
  const server = await startServer({ port: 0, dataDir });
  const browser = await launchBrowser();
  return {
    server,
    browser,
    url: (path = '/') => server.url + path,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Debian's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Collects uncaught page errors so a test can assert the page stayed healthy. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
