/**
 * Owns the report's charts: small functions that return inline SVG text with no external reference. Every data point
 * is an element carrying `data-series`, `data-x`, `data-label` and `data-value`, so a reader (or a test) gets the
 * numbers back from the picture.
 */

export interface ChartSeries {
  name: string;
  values: number[];
  color: string;
}

export interface ChartInput {
  /** `data-chart` name. */
  id: string;
  title: string;
  /** One label per x position. */
  labels: string[];
  series: ChartSeries[];
  yLabel: string;
  width?: number;
  height?: number;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const PAD = { left: 56, right: 16, top: 28, bottom: 40 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function frame(input: ChartInput, kind: string, body: string[], max: number, w: number, h: number): string {
  const plotH = h - PAD.top - PAD.bottom;
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = PAD.top + plotH - (plotH * i) / 4;
    ticks.push(`<line x1="${PAD.left}" y1="${y.toFixed(1)}" x2="${w - PAD.right}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`);
    ticks.push(`<text x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="10">${escapeXml(fmt(v))}</text>`);
  }
  const legend = input.series
    .map((s, i) => `<g><rect x="${PAD.left + i * 140}" y="6" width="10" height="10" fill="${s.color}"/><text x="${PAD.left + 14 + i * 140}" y="15" font-size="11">${escapeXml(s.name)}</text></g>`)
    .join('');
  const n = input.labels.length;
  const xl: string[] = [];
  if (n > 0) {
    const step = Math.max(1, Math.ceil(n / 8));
    const plotW = w - PAD.left - PAD.right;
    for (let i = 0; i < n; i += step) {
      const x = PAD.left + ((i + 0.5) * plotW) / n;
      xl.push(`<text x="${x.toFixed(1)}" y="${h - PAD.bottom + 14}" text-anchor="middle" font-size="10">${escapeXml(input.labels[i]!)}</text>`);
    }
  }
  return [
    `<svg class="chart" data-chart="${escapeXml(input.id)}" data-kind="${kind}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(input.title)}">`,
    `<title>${escapeXml(input.title)}</title>`,
    ...ticks,
    `<text x="12" y="${PAD.top + plotH / 2}" transform="rotate(-90 12 ${PAD.top + plotH / 2})" text-anchor="middle" font-size="11">${escapeXml(input.yLabel)}</text>`,
    legend,
    ...xl,
    ...body,
    '</svg>',
  ].join('\n');
}

function point(series: string, x: number, label: string, value: number): string {
  return `data-series="${escapeXml(series)}" data-x="${x}" data-label="${escapeXml(label)}" data-value="${value}"`;
}

/** Size, scale and plot area shared by the bar and line charts. */
function plotArea(input: ChartInput): { w: number; h: number; max: number; n: number; plotW: number; plotH: number } {
  const w = input.width ?? 880;
  const h = input.height ?? 260;
  return {
    w,
    h,
    max: niceMax(Math.max(0, ...input.series.flatMap((s) => s.values))),
    n: Math.max(1, input.labels.length),
    plotW: w - PAD.left - PAD.right,
    plotH: h - PAD.top - PAD.bottom,
  };
}

/** Vertical bars, series side by side at each x. */
export function barChart(input: ChartInput): string {
  const { w, h, max, n, plotW, plotH } = plotArea(input);
  const slot = plotW / n;
  const barW = Math.max(0.5, (slot * 0.8) / input.series.length);
  const body: string[] = [];
  input.series.forEach((s, si) => {
    s.values.forEach((v, i) => {
      const bh = (v / max) * plotH;
      const x = PAD.left + i * slot + slot * 0.1 + si * barW;
      body.push(
        `<rect class="point" ${point(s.name, i, input.labels[i] ?? String(i), v)} x="${x.toFixed(2)}" y="${(PAD.top + plotH - bh).toFixed(2)}" width="${barW.toFixed(2)}" height="${bh.toFixed(2)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${input.labels[i] ?? i}: ${v}`)}</title></rect>`,
      );
    });
  });
  return frame(input, 'bar', body, max, w, h);
}

/** Lines with a marker per point. */
export function lineChart(input: ChartInput): string {
  const { w, h, max, n, plotW, plotH } = plotArea(input);
  const body: string[] = [];
  for (const s of input.series) {
    const xy = s.values.map((v, i) => [PAD.left + ((i + 0.5) * plotW) / n, PAD.top + plotH - (v / max) * plotH] as const);
    body.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    s.values.forEach((v, i) => {
      const [x, y] = xy[i]!;
      body.push(
        `<circle class="point" ${point(s.name, i, input.labels[i] ?? String(i), v)} cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2" fill="${s.color}"><title>${escapeXml(`${s.name} ${input.labels[i] ?? i}: ${v}`)}</title></circle>`,
      );
    });
  }
  return frame(input, 'line', body, max, w, h);
}

/** One horizontal bar per label (a single series): failures by reason. */
export function horizontalBarChart(input: ChartInput): string {
  const s = input.series[0] ?? { name: '', values: [], color: '#888' };
  const rowH = 22;
  const labelW = 260;
  const w = input.width ?? 880;
  const h = Math.max(70, 40 + rowH * input.labels.length);
  const max = niceMax(Math.max(0, ...s.values));
  const plotW = w - labelW - 80;
  const body: string[] = [
    `<svg class="chart" data-chart="${escapeXml(input.id)}" data-kind="hbar" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(input.title)}">`,
    `<title>${escapeXml(input.title)}</title>`,
  ];
  if (input.labels.length === 0) body.push(`<text x="12" y="40" font-size="12">none</text>`);
  input.labels.forEach((label, i) => {
    const v = s.values[i] ?? 0;
    const y = 20 + i * rowH;
    const bw = (v / max) * plotW;
    body.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end" font-size="11">${escapeXml(label)}</text>`);
    body.push(`<rect class="point" ${point(s.name, i, label, v)} x="${labelW}" y="${y}" width="${bw.toFixed(2)}" height="${rowH - 6}" fill="${s.color}"/>`);
    body.push(`<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 14}" font-size="11">${v}</text>`);
  });
  body.push('</svg>');
  return body.join('\n');
}
