/**
 * The dashboard as one self-contained HTML page: the report's data as JSON, uPlot (MIT, github.com/leeoniya/uPlot)
 * and its stylesheet inlined, and a small script that draws a chart per widget. It loads nothing from the network.
 */
import { readFileSync } from 'node:fs';
import type { ReportData, WidgetView } from './chart-data';

export interface ReportPage {
  readonly title: string;
  /** Where the samples came from (file names, or the run), shown under the title. */
  readonly sources: readonly string[];
  readonly data: ReportData;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);

/** JSON safe inside a script element: no `</script>` or `<!--` can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const PAGE_STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
.meta { color: #57606a; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(580px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 8px 10px; border: 1px solid #d0d7de; border-radius: 6px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.note { color: #57606a; font-style: italic; margin: 8px 0; }
`;

/** Draws every `[data-chart]` element from the report data; marks the body when done (tests wait for it). */
const PAGE_SCRIPT = `
(function () {
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
  var xs = report.times.map(function (time) { return time / 1000; });
  document.querySelectorAll('[data-chart]').forEach(function (element) {
    var at = element.getAttribute('data-chart').split('-');
    var chart = report.services[Number(at[0])].widgets[Number(at[1])];
    var series = chart.series.map(function (line, index) {
      var color = colors[index % colors.length];
      // Lines join values across periods without one, as CloudWatch's graphs do; earlier lines are wider, so a line
      // drawn over another with the same values leaves it visible.
      return { label: line.label, stroke: color, width: Math.max(1.5, 4 - index), spanGaps: true, points: { show: xs.length <= 60, size: 5, fill: color } };
    });
    new uPlot(
      { width: 560, height: 240, legend: { live: false }, scales: { x: { time: true } }, axes: [{}, { label: chart.unit === 'Milliseconds' ? 'ms' : 'count', size: 64 }], series: [{ label: 'time' }].concat(series) },
      [xs].concat(chart.series.map(function (line) { return line.values; })),
      element
    );
  });
  document.body.setAttribute('data-charts', 'drawn');
})();
`;

function widgetHtml(widget: WidgetView, chartId: string): string {
  const body = 'note' in widget ? `<p class="note">${escapeHtml(widget.note)}</p>` : `<div data-chart="${chartId}"></div>`;
  return `<figure><figcaption>${escapeHtml(widget.title)}</figcaption>${body}</figure>`;
}

function describePeriod(periodMs: number): string {
  return periodMs < 1000 ? `${periodMs} ms` : periodMs < 60_000 ? `${periodMs / 1000} s` : `${periodMs / 60_000} min`;
}

export function reportHtml({ title, sources, data }: ReportPage): string {
  const uplotScript = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotStyle = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const range =
    data.times.length === 0
      ? 'no shardflow metrics found'
      : `${new Date(data.times[0] as number).toISOString()} to ${new Date((data.times[data.times.length - 1] as number) + data.periodMs).toISOString()}, one point per ${describePeriod(data.periodMs)}`;
  const services = data.services
    .map(
      (view, s) =>
        `<section><h2>${escapeHtml(view.service)}</h2><div class="grid">${view.widgets.map((widget, w) => widgetHtml(widget, `${s}-${w}`)).join('')}</div></section>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${uplotStyle}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(sources.join(', '))}: ${escapeHtml(range)}</p>
${services}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${uplotScript}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
