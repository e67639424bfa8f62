// The readable form of a backtest report: aligned plain-text tables.

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const num = (x, digits = 1) => (x === null || x === undefined ? '–' : x.toFixed(digits));
const lift = (x) => (x === null || x === undefined ? '–' : x === Infinity ? '∞' : x.toFixed(2));
const days = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)}d`);
const int = (x) => x.toLocaleString('en-US');

/** Aligns rows into columns: text columns left, the others right. */
export function table(header, rows, leftColumns = 1) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) =>
    r
      .map((cell, c) => (c < leftColumns || c === r.length - 1 && header[c] === 'verdict' ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(header.map((_, c) => '-'.repeat(widths[c]))), ...rows.map(line)].join('\n');
}

const HEAD = ['', 'flagged', 'share', '/week', 'conv flagged', 'conv not', 'lift', 'precision', 'recall', 'seen→flag', 'flag→conv'];

function statRow(label, s) {
  return [label, int(s.flagged), pct(s.share), num(s.flaggedPerWeek), pct(s.conversionFlagged), pct(s.conversionNotFlagged), lift(s.lift), pct(s.precision), pct(s.recall), days(s.medianDaysToFlag), days(s.medianDaysFlagToConversion)];
}

export function renderBacktest(report, rulesPath) {
  const { data } = report;
  const out = [];
  const flags = [...report.rules.map((r) => ({ label: r.id, ...r })), ...(report.score ? [{ label: `score ≥ ${report.score.threshold}`, ...report.score }] : [])];
  const userBase = flags[0]?.user ?? null;
  const accountBase = flags[0]?.account ?? null;
  out.push(`pqlkit backtest · ${rulesPath} · horizon ${report.horizonDays}d`);
  out.push(
    `${int(data.events)} events · ${int(data.users)} users · ${int(data.accounts)} accounts · ${data.from?.slice(0, 10) ?? '–'} → ${data.to?.slice(0, 10) ?? '–'} (${data.weeks} weeks)`,
  );
  if (userBase) {
    out.push(
      `converted within the horizon: ${int(userBase.converted)} users (baseline ${pct(userBase.baseline)}), ${int(accountBase.converted)} accounts (${pct(accountBase.baseline)})`,
    );
  }
  const notes = [];
  if (data.eventsAfterConversion) notes.push(`${int(data.eventsAfterConversion)} events after their user's conversion ignored`);
  if (data.usersConvertedBeforeFirstEvent) notes.push(`${int(data.usersConvertedBeforeFirstEvent)} users converted before their first event left out`);
  if (data.conversionsWithoutEvents) notes.push(`${int(data.conversionsWithoutEvents)} converted users have no events`);
  if (!data.groupedByUser) notes.push('events not grouped by user: replayed through temporary partitions');
  if (notes.length) out.push(`note: ${notes.join('; ')}`);

  for (const [title, level] of [['USERS', 'user'], ['ACCOUNTS', 'account']]) {
    out.push('', `${title} (conversion within ${report.horizonDays}d of the flag, or of first seen when not flagged; medians in days)`);
    out.push(table(['rule', ...HEAD.slice(1), ...(level === 'user' ? ['verdict'] : [])], flags.map((f) => [...statRow(f.label, f[level]), ...(level === 'user' ? [f.verdict] : [])])));
  }

  out.push('', 'VERDICTS');
  out.push(table(['rule', 'verdict', 'reason'], flags.map((f) => [f.label, f.verdict, f.reason]), 3));

  if (flags.length && data.weeks > 0) {
    out.push('', 'FLAGGED PER WEEK (users, by week of first flag; weeks start on Monday, UTC)');
    const weeks = flags[0].user.weekly.map((w) => w.week);
    out.push(table(['week', ...flags.map((f) => f.label)], weeks.map((w, i) => [w, ...flags.map((f) => int(f.user.weekly[i].flagged))])));
  }

  out.push('', `THRESHOLD SWEEP (users; flagged = max score over time reaches the threshold${report.score ? `; configured: ${report.score.threshold}` : ''})`);
  if (report.sweep.length === 0) out.push('(no user ever had a positive score)');
  else {
    out.push(
      table(
        ['threshold', 'flagged', 'share', '/week', 'precision', 'lift', 'recall', 'flag→conv', 'verdict'],
        report.sweep.map((s) => [
          `${s.threshold}${report.score && s.threshold === report.score.threshold ? ' *' : ''}`,
          int(s.flagged),
          pct(s.share),
          num(s.flaggedPerWeek),
          pct(s.precision),
          lift(s.lift),
          pct(s.recall),
          days(s.medianDaysFlagToConversion),
          s.verdict,
        ]),
      ),
    );
  }
  return out.join('\n');
}
