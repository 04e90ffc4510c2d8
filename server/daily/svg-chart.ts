// Charts drawn on the server as inline SVG: no JavaScript library, nothing to download, the same
// picture with JavaScript off and in screenshots. A few hundred bytes per series. Each chart carries
// its text alternative: <title> and <desc> (read by screen readers through aria-labelledby) and a
// table of the same figures under a <details> for anyone who wants the numbers.
import Handlebars from 'handlebars';

const esc = Handlebars.Utils.escapeExpression;

export interface Series { label: string; className: string; points: Array<[number, number]> }
export interface ChartSpec {
  id: string;
  title: string;
  /** One sentence that says what the picture shows (peak, total, last value). */
  summary: string;
  series: Series[];
  /** How the x values (epoch ms) and y values read as text, in the page's language and zone. */
  xText(x: number): string;
  yText(y: number): string;
  /** Header cells of the figures table: the x column, then one per series. */
  xHeader: string;
  empty: string;
  width?: number;
  height?: number;
}

const PAD = { left: 56, right: 12, top: 12, bottom: 28 };
const MAX_TABLE_ROWS = 60;

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= value)!;
  return step * power;
}

/** The SVG and its figures table, as HTML ready to be placed in a page (every text escaped). */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 200;
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure class="chart" id="${esc(spec.id)}"><figcaption>${esc(spec.title)}</figcaption><p class="muted">${esc(spec.empty)}</p></figure>`;
  const xs = all.map((p) => p[0]);
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs, minX + 60_000);
  const maxY = niceMax(Math.max(...all.map((p) => p[1])));
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - minX) / (maxX - minX)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / maxY) * plotH;
  const grid = [0, 0.5, 1].map((f) => {
    const v = maxY * f;
    return `<line class="grid" x1="${PAD.left}" x2="${width - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(spec.yText(v))}</text>`;
  }).join('');
  const ticks = [minX, (minX + maxX) / 2, maxX].map((v, i) => `<text class="axis" x="${x(v).toFixed(1)}" y="${height - 8}" text-anchor="${['start', 'middle', 'end'][i]}">${esc(spec.xText(v))}</text>`).join('');
  const lines = spec.series.filter((s) => s.points.length).map((s) => {
    const d = s.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)} ${y(py).toFixed(1)}`).join('');
    const dots = s.points.length === 1 ? `<circle class="${esc(s.className)}" cx="${x(s.points[0]![0]).toFixed(1)}" cy="${y(s.points[0]![1]).toFixed(1)}" r="3"/>` : '';
    return `<path class="line ${esc(s.className)}" d="${d}" fill="none"><title>${esc(s.label)}</title></path>${dots}`;
  }).join('');
  const legend = spec.series.length > 1 ? `<ul class="legend">${spec.series.map((s) => `<li><span class="swatch ${esc(s.className)}"></span>${esc(s.label)}</li>`).join('')}</ul>` : '';
  const svg = `<svg class="chart-svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${esc(spec.id)}-t ${esc(spec.id)}-d" xmlns="http://www.w3.org/2000/svg">`
    + `<title id="${esc(spec.id)}-t">${esc(spec.title)}</title><desc id="${esc(spec.id)}-d">${esc(spec.summary)}</desc>${grid}${ticks}${lines}</svg>`;
  return `<figure class="chart" id="${esc(spec.id)}"><figcaption>${esc(spec.title)}</figcaption>${svg}${legend}<p class="muted chart-summary">${esc(spec.summary)}</p>${figuresTable(spec)}</figure>`;
}

// The same figures as text: one row per x value (the last MAX_TABLE_ROWS), one column per series.
function figuresTable(spec: ChartSpec): string {
  const xsSeen = [...new Set(spec.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b).slice(-MAX_TABLE_ROWS);
  const byX = spec.series.map((s) => new Map(s.points));
  const head = `<tr><th>${esc(spec.xHeader)}</th>${spec.series.map((s) => `<th>${esc(s.label)}</th>`).join('')}</tr>`;
  const rows = xsSeen.map((xv) => `<tr><td>${esc(spec.xText(xv))}</td>${byX.map((m) => `<td>${m.has(xv) ? esc(spec.yText(m.get(xv)!)) : ''}</td>`).join('')}</tr>`).join('');
  return `<details class="chart-figures"><summary>${esc(spec.xHeader)} · ${xsSeen.length}</summary><table>${head}${rows}</table></details>`;
}
