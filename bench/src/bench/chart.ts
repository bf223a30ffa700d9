/** A hand-written SVG bar chart: stacked panels of grouped horizontal bars, log or linear scale. */

export interface Bar {
  name: string;
  value: number;
  color: string;
}

export interface Row {
  label: string;
  bars: Bar[];
}

export interface Panel {
  title: string;
  unit: string;
  log: boolean;
  rows: Row[];
  /** A vertical line (e.g. a target). */
  marker?: { value: number; label: string };
  note?: string;
}

const WIDTH = 960;
const LABEL_W = 250;
const PLOT_W = 560;
const BAR_H = 13;
const ROW_GAP = 10;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function renderChart(title: string, subtitle: string, panels: Panel[]): string {
  const parts: string[] = [];
  let y = 54;
  for (const panel of panels) {
    const values = panel.rows.flatMap((r) => r.bars.map((b) => b.value)).filter((v) => Number.isFinite(v) && v > 0);
    if (panel.marker) values.push(panel.marker.value);
    const max = Math.max(...values, 1e-9);
    const min = Math.min(...values, max);
    const lo = panel.log ? 10 ** Math.floor(Math.log10(min)) : 0;
    const hi = panel.log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.1;
    const x = (v: number): number => {
      if (!(v > 0)) return 0;
      if (panel.log) return (PLOT_W * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo) || 1);
      return (PLOT_W * v) / hi;
    };
    parts.push(`<text x="16" y="${y}" class="panel">${escape(panel.title)}</text>`);
    if (panel.note) parts.push(`<text x="16" y="${y + 15}" class="note">${escape(panel.note)}</text>`);
    y += panel.note ? 28 : 14;
    const top = y;
    for (const row of panel.rows) {
      const rowH = row.bars.length * BAR_H;
      parts.push(`<text x="${LABEL_W - 8}" y="${y + rowH / 2 + 4}" class="label" text-anchor="end">${escape(row.label)}</text>`);
      for (const bar of row.bars) {
        const w = Math.max(1, x(bar.value));
        parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H - 2}" fill="${bar.color}"><title>${escape(`${row.label} ${bar.name}: ${fmt(bar.value)} ${panel.unit}`)}</title></rect>`);
        parts.push(`<text x="${LABEL_W + w + 4}" y="${y + BAR_H - 3}" class="value">${escape(`${bar.name} ${fmt(bar.value)}`)}</text>`);
        y += BAR_H;
      }
      y += ROW_GAP;
    }
    const bottom = y - ROW_GAP + 4;
    // Axis with ticks.
    const ticks: number[] = [];
    if (panel.log) for (let v = lo; v <= hi * 1.0001; v *= 10) ticks.push(v);
    else for (let i = 0; i <= 4; i++) ticks.push((hi * i) / 4);
    for (const t of ticks) {
      const tx = LABEL_W + x(t || lo);
      parts.push(`<line x1="${tx.toFixed(1)}" y1="${top - 2}" x2="${tx.toFixed(1)}" y2="${bottom}" class="grid"/>`);
      parts.push(`<text x="${tx.toFixed(1)}" y="${bottom + 12}" class="tick" text-anchor="middle">${fmt(t)}</text>`);
    }
    parts.push(`<text x="${LABEL_W + PLOT_W + 8}" y="${bottom + 12}" class="tick">${escape(panel.unit)}${panel.log ? ' (log)' : ''}</text>`);
    if (panel.marker) {
      const mx = LABEL_W + x(panel.marker.value);
      parts.push(`<line x1="${mx.toFixed(1)}" y1="${top - 6}" x2="${mx.toFixed(1)}" y2="${bottom}" class="marker"/>`);
      parts.push(`<text x="${(mx + 3).toFixed(1)}" y="${top - 3}" class="markerlabel">${escape(panel.marker.label)}</text>`);
    }
    y = bottom + 40;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>
  .title { font-size: 18px; font-weight: 600; }
  .subtitle { font-size: 11px; fill: #555; }
  .panel { font-size: 14px; font-weight: 600; }
  .note { font-size: 10.5px; fill: #666; }
  .label { font-size: 11.5px; }
  .value { font-size: 10px; fill: #333; }
  .tick { font-size: 10px; fill: #666; }
  .grid { stroke: #e3e3e3; stroke-width: 1; }
  .marker { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 4 3; }
  .markerlabel { font-size: 10px; fill: #c0392b; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" class="title">${escape(title)}</text>
<text x="16" y="40" class="subtitle">${escape(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}
