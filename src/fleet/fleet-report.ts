/**
 * Owns report.html: one self-contained page (inline CSS and SVG, no script, no external reference of any kind) built
 * from a summary: registrations and renewals over virtual time, the token-expiry distribution, failures by reason,
 * latency percentiles by request kind, and the counts table.
 */
import { barChart, escapeXml, horizontalBarChart, lineChart } from './svg-charts.js';
import type { FleetSummary } from './fleet-summary.js';

function dayLabels(startIso: string, dayMs: number, n: number): string[] {
  const start = Date.parse(startIso);
  return Array.from({ length: n }, (_, i) => new Date(start + i * dayMs).toISOString().slice(0, 10));
}

/** The token-expiry distribution trimmed to the days that hold expiries (with a day of margin). */
function expiryWindow(perDay: number[]): { from: number; values: number[] } {
  const first = perDay.findIndex((v) => v > 0);
  if (first < 0) return { from: 0, values: [] };
  let last = perDay.length - 1;
  while (last > first && perDay[last] === 0) last--;
  return { from: first, values: perDay.slice(first, last + 1) };
}

export function renderReport(s: FleetSummary): string {
  const days = s.series.registrations.length;
  const labels = dayLabels(s.series.start, s.series.dayMs, days);
  const activity = lineChart({
    id: 'activity',
    title: 'Registrations and renewals per virtual day',
    labels,
    yLabel: 'per day',
    series: [
      { name: 'registrations', values: s.series.registrations, color: '#1f6feb' },
      { name: 'renewals', values: s.series.renewals, color: '#2da44e' },
      { name: 'failures', values: s.series.failures, color: '#cf222e' },
    ],
  });
  const ew = expiryWindow(s.tokenExpiry.perDay);
  const expiry = barChart({
    id: 'token-expiry',
    title: 'Token expiry distribution (the token each agent holds at the end of the run)',
    labels: dayLabels(s.tokenExpiry.start, s.series.dayMs, ew.from + ew.values.length).slice(ew.from),
    yLabel: 'tokens expiring',
    series: [{ name: 'tokens', values: ew.values, color: '#8250df' }],
  });
  const reasons = Object.entries(s.counts.failuresByReason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const failures = horizontalBarChart({
    id: 'failures',
    title: 'Failures by reason (install failures and refusals)',
    labels: reasons.map(([k]) => k),
    yLabel: 'count',
    series: [{ name: 'failures', values: reasons.map(([, v]) => v), color: '#cf222e' }],
  });
  const ops = Object.keys(s.latency);
  const ms = (us: number): number => Math.round(us) / 1000;
  const latency = barChart({
    id: 'latency',
    title: 'Request latency by kind (real round trips, ms)',
    labels: ops,
    yLabel: 'ms',
    series: [
      { name: 'p50', values: ops.map((k) => ms(s.latency[k]!.p50)), color: '#9ecbff' },
      { name: 'p90', values: ops.map((k) => ms(s.latency[k]!.p90)), color: '#58a6ff' },
      { name: 'p99', values: ops.map((k) => ms(s.latency[k]!.p99)), color: '#1f6feb' },
      { name: 'max', values: ops.map((k) => ms(s.latency[k]!.max)), color: '#0a3069' },
    ],
  });
  const c = s.counts;
  const row = (k: string, v: string | number): string => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`;
  const table = [
    row('agents', `${c.agents} (internet ${c.internet}, intranet ${c.intranet})`),
    row('shards', `${s.shards.included.join(', ')} of ${s.shards.count}`),
    row('keys', s.keys.note),
    row('registrations', `${c.registrations} (CMG ${c.registrationsViaCmg}, MP ${c.registrationsViaMp})`),
    row('install failures', c.installFailures),
    row('renewals', `${c.renewals} (CMG ${c.renewalsViaCmg}, MP ${c.renewalsViaMp})`),
    row('refusals', c.refusals),
    row('retries', c.retries),
    row('requests', `${c.requests} (${c.requestFailures} failed)`),
    row('faults injected', Object.entries(c.faultsInjected).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'),
    ...(s.site ? [row('site database', `${s.site.clients} clients, ${s.site.duplicateClients} duplicates, ${s.site.clientTokens} client tokens`)] : []),
    row('wall time', `${(s.performance.wallMs / 1000).toFixed(1)} s, ${s.performance.agentsPerSecond.toFixed(1)} agents/s`),
    row('CPU time', `user ${(s.performance.cpuUserMs / 1000).toFixed(1)} s, system ${(s.performance.cpuSystemMs / 1000).toFixed(1)} s`),
    row('peak RSS', `${(s.performance.peakRssBytes / 1048576).toFixed(0)} MiB`),
  ].join('\n');
  const opts = Object.entries(s.options)
    .map(([k, v]) => row(k, v))
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>ccmsim fleet report (seed ${escapeXml(String(s.options['seed']))})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th { text-align: left; padding: 2px 12px 2px 0; font-weight: 600; } td { padding: 2px 0; }
svg.chart { display: block; margin: 8px 0; font-family: system-ui, sans-serif; }
</style>
</head>
<body>
<h1>ccmsim fleet report</h1>
<p>${escapeXml(s.driver)}</p>
<h2>Counts</h2>
<table class="counts">
${table}
</table>
<h2>Registrations and renewals over virtual time</h2>
${activity}
<h2>Token expiry distribution</h2>
${expiry}
<h2>Failures by reason</h2>
${failures}
<h2>Latency</h2>
${latency}
<h2>Options</h2>
<table class="options">
${opts}
</table>
</body>
</html>
`;
}
