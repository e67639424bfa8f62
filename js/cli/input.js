// Reading the command line's inputs: NDJSON event histories (plain or gzip), conversion CSVs,
// timestamps and durations. Node only.
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { durationMs } from '../validate.js';
import { cliWasm, loadCliWasm, parseTimestamp } from './wasm.js';
import { createGunzip } from 'node:zlib';

export const DAY = 86400000;

/** A usage or input problem: printed without a stack, exit code 2 (usage) or 1. */
export class CliError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** `"90s" "30m" "24h" "7d" "2w"` → milliseconds, read by the core as in rule sets. */
export function parseDuration(text, what = 'duration') {
  const ms = durationMs(cliWasm(), String(text).trim());
  if (ms === null) throw new CliError(`${what}: "${text}" is not a duration such as 90s, 30m, 24h, 7d or 2w`);
  return ms;
}

/**
 * A timestamp: milliseconds since the epoch (number or digit string) or ISO 8601; a date and
 * time without an offset is UTC. NaN if neither. The same reader as the event history's.
 */
export function parseTime(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : NaN;
  if (typeof value !== 'string' || value === '') return NaN;
  loadCliWasm();
  return parseTimestamp(value);
}

export function readText(path, what) {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${error.code ?? error.message}`);
  }
}

/**
 * Yields the bytes of a file in chunks of about `size` bytes, gunzipped when its name ends in
 * `.gz` (or it starts with the gzip magic bytes). Memory: one chunk.
 */
export async function* byteChunks(path, size) {
  let stream;
  try {
    const head = Buffer.alloc(2);
    const fd = openSync(path, 'r');
    readSync(fd, head, 0, 2, 0);
    closeSync(fd);
    stream = createReadStream(path, { highWaterMark: size });
    if (path.endsWith('.gz') || (head[0] === 0x1f && head[1] === 0x8b)) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
  } catch (error) {
    throw new CliError(`cannot read events ${path}: ${error.code ?? error.message}`);
  }
  let parts = [];
  let length = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

function splitCsvLine(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(field), (field = '');
    else field += c;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

/**
 * Conversions CSV: `userId,convertedAt[,accountId]`, one row per conversion, an optional header
 * row (recognised by a `convertedAt` column), times in ms or ISO 8601. A row with an empty
 * userId and an accountId is an account-level conversion. The earliest conversion counts.
 */
export function readConversions(path) {
  const text = readText(path, 'conversions');
  const users = new Map();
  const accounts = new Map();
  const userAccounts = new Map();
  let columns = { userId: 0, convertedAt: 1, accountId: 2 };
  let rows = 0;
  let latest = -Infinity;
  const rowsOfText = text.split(/\r?\n/);
  for (let i = 0; i < rowsOfText.length; i++) {
    const line = rowsOfText[i];
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitCsvLine(line);
    if (rows === 0 && fields.some((f) => f.toLowerCase() === 'convertedat')) {
      const find = (name) => fields.findIndex((f) => f.toLowerCase() === name.toLowerCase());
      columns = { userId: find('userId'), convertedAt: find('convertedAt'), accountId: find('accountId') };
      rows++;
      continue;
    }
    rows++;
    const userId = columns.userId >= 0 ? fields[columns.userId] ?? '' : '';
    const accountId = columns.accountId >= 0 ? fields[columns.accountId] ?? '' : '';
    const at = parseTime(fields[columns.convertedAt] ?? '');
    if (!Number.isFinite(at)) throw new CliError(`${path}:${i + 1}: convertedAt "${fields[columns.convertedAt] ?? ''}" is not a timestamp (ms or ISO 8601)`, 1);
    if (userId === '' && accountId === '') throw new CliError(`${path}:${i + 1}: a conversion needs a userId or an accountId`, 1);
    if (at > latest) latest = at;
    if (userId !== '') {
      if (!(users.get(userId) <= at)) users.set(userId, at);
      if (accountId !== '') userAccounts.set(userId, accountId);
    } else if (!(accounts.get(accountId) <= at)) accounts.set(accountId, at);
  }
  return { users, accounts, userAccounts, latest };
}
