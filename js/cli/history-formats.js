// `--format segment|posthog`: event histories exported by Segment (messages as they land in S3
// or a warehouse's raw JSON) and PostHog (its event export), rewritten line by line into the
// history format both engines read (pqlkit NDJSON, `pqlkit backtest --help`). Fields are read
// with js/formats.js, as pqlkit/segment, pqlkit/posthog and the collector read them.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { POSTHOG_ACCOUNT_GROUP, readPosthog, readSegment } from '../formats.js';
import { CliError, byteChunks } from './input.js';

export const FORMATS = ['pqlkit', 'segment', 'posthog'];

const object = (v) => (v && typeof v == 'object' && !Array.isArray(v) ? v : {});
const nonEmpty = (v) => (typeof v == 'string' && v !== '' ? v : null);
/** The raw timestamp: pqlkit reads ms and ISO 8601 itself (without an offset: UTC). */
const time = (m) => m.timestamp ?? m.originalTimestamp ?? m.receivedAt ?? m.sentAt ?? undefined;

/**
 * pqlkit lines of one Segment message: track → the event; page → `page_view` with path, url and
 * title (from `properties`, else `context.page`); screen → `screen_view`; identify → traits;
 * group → the account and its traits. The user is `userId`, else `anonymousId`; the account of
 * an event is `context.groupId`. Alias and unknown types carry no behaviour: none.
 */
export function fromSegment(message) {
  const m = object(message);
  const s = readSegment(m);
  const userId = nonEmpty(s.userId) ?? nonEmpty(s.anonymousId);
  const timestamp = time(m);
  const accountId = nonEmpty(s.accountId) ?? undefined;
  switch (s.kind) {
    case 'identify':
      return [{ type: 'identify', userId, timestamp, traits: s.traits }];
    case 'group':
      return [{ type: 'group', userId, accountId, timestamp, traits: s.traits }];
    case 'page': {
      const page = object(m.context?.page);
      const props = { ...s.props };
      for (const key of ['path', 'url', 'title']) if (props[key] === undefined && page[key] !== undefined) props[key] = page[key];
      return [{ userId, accountId, timestamp, event: 'page_view', props }];
    }
    case 'screen':
      return [{ userId, accountId, timestamp, event: 'screen_view', props: { name: m.name, ...s.props } }];
    case 'track':
    case undefined:
      return s.name === null ? [] : [{ userId, accountId, timestamp, event: s.name, props: s.props }];
    default:
      return [];
  }
}

/**
 * pqlkit lines of one PostHog event: `$pageview` → `page_view` (path from `$pathname`, url from
 * `$current_url`, title from `$title`); `$identify` and any `$set` → traits (an identify line
 * before the event); `$groupidentify` → the account (`$group_key`) and its traits
 * (`$group_set`); other events keep their name and properties. The user is `distinct_id`; the
 * account of an event its `$groups.company`.
 */
export function fromPosthog(event) {
  const e = object(event);
  const p = readPosthog(e);
  const userId = nonEmpty(p.distinctId) ?? nonEmpty(e.distinct_id);
  const timestamp = time(e);
  const accountId = nonEmpty(p.accountId) ?? nonEmpty(object(e.$groups)[POSTHOG_ACCOUNT_GROUP]) ?? undefined;
  const { $set, $set_once, ...props } = p.props;
  const lines = [];
  const traits = { ...object($set_once), ...p.set };
  if (Object.keys(traits).length) lines.push({ type: 'identify', userId, timestamp, traits });
  if (p.name === '$identify') return lines.length ? lines : [{ type: 'identify', userId, timestamp, traits: {} }];
  if (p.name === '$groupidentify') {
    if (props.$group_type !== undefined && props.$group_type !== POSTHOG_ACCOUNT_GROUP) return lines;
    return [...lines, { type: 'group', userId, accountId: nonEmpty(props.$group_key) ?? accountId, timestamp, traits: object(props.$group_set) }];
  }
  if (p.name === null) return lines;
  if (p.name === '$pageview') {
    const page = { path: props.$pathname, url: props.$current_url, title: props.$title, ...props };
    lines.push({ userId, accountId, timestamp, event: 'page_view', props: page });
  } else lines.push({ userId, accountId, timestamp, event: p.name, props });
  return lines;
}

/**
 * Rewrites the `format` history at `path` (NDJSON, plain or gzip) into pqlkit NDJSON at `out`.
 * Returns the number of lines read. Errors name the file and line.
 */
export async function convertHistory(path, format, out) {
  const convert = format === 'segment' ? fromSegment : fromPosthog;
  const stream = createWriteStream(out);
  let line = 0;
  let carry = '';
  const decoder = new StringDecoder('utf8');
  const write = async (text) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  const take = async (text) => {
    line++;
    if (text.trim() === '') return;
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${path}:${line}: not JSON (${error.message})`, 1);
    }
    const lines = convert(message).filter((l) => l.userId);
    if (lines.length) await write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  };
  try {
    for await (const chunk of byteChunks(path, 4 << 20)) {
      const parts = (carry + decoder.write(chunk)).split('\n');
      carry = parts.pop();
      for (const part of parts) await take(part);
    }
    carry += decoder.end();
    if (carry !== '') await take(carry);
  } finally {
    stream.end();
    await once(stream, 'close');
  }
  return line;
}
