/**
 * The benchmark's report as one self-contained HTML page: the run's machine and command, the verdicts, and each part's
 * table and bar chart (inline SVG, no script), goals drawn as lines.
 */
import type { ColdStartReport } from './cold-start';
import type { RuntimeReport } from './runtime';
import type { SchemaReport } from './schema';
import type { SinkCostReport } from './sink-cost';

interface Bar {
  readonly label: string;
  readonly value: number;
}

interface Group {
  readonly label: string;
  readonly bars: readonly Bar[];
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const format = (value: number): string => (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2));

/** Grouped bars with a legend, an axis from 0, and the goal as a dashed line. */
function barChart(title: string, groups: readonly Group[], goal?: { value: number; label: string }): string {
  const series = [...new Set(groups.flatMap((group) => group.bars.map((bar) => bar.label)))];
  const barWidth = 14;
  const groupWidth = series.length * barWidth + 18;
  // Room on the right for the last group's label, drawn at an angle.
  const width = Math.max(420, 60 + groups.length * groupWidth + 90);
  const height = 240;
  const top = 28;
  const bottom = 70;
  const plot = height - top - bottom;
  const max = Math.max(goal?.value ?? 0, ...groups.flatMap((group) => group.bars.map((bar) => bar.value))) * 1.1 || 1;
  const y = (value: number) => top + plot - (value / max) * plot;
  const parts: string[] = [`<text x="50" y="16" font-weight="bold">${escape(title)}</text>`];
  parts.push(`<line x1="50" x2="${width - 10}" y1="${y(0)}" y2="${y(0)}" stroke="#999"/>`);
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max / 4) * tick;
    parts.push(`<text x="45" y="${y(value) + 4}" text-anchor="end" font-size="10">${format(value)}</text>`);
  }
  groups.forEach((group, g) => {
    const x0 = 60 + g * groupWidth;
    group.bars.forEach((bar) => {
      const s = series.indexOf(bar.label);
      const x = x0 + s * barWidth;
      parts.push(`<rect x="${x}" y="${y(bar.value)}" width="${barWidth - 2}" height="${Math.max(0, y(0) - y(bar.value))}" fill="${COLOURS[s % COLOURS.length]}"><title>${escape(`${group.label} ${bar.label}: ${format(bar.value)}`)}</title></rect>`);
    });
    parts.push(`<text transform="translate(${x0 + (series.length * barWidth) / 2},${y(0) + 10}) rotate(35)" font-size="10">${escape(group.label)}</text>`);
  });
  if (goal !== undefined) {
    parts.push(`<line x1="50" x2="${width - 10}" y1="${y(goal.value)}" y2="${y(goal.value)}" stroke="#c00" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${width - 12}" y="${y(goal.value) - 4}" text-anchor="end" font-size="10" fill="#c00">${escape(goal.label)}</text>`);
  }
  series.forEach((label, s) => {
    parts.push(`<rect x="${60 + s * 150}" y="${height - 14}" width="10" height="10" fill="${COLOURS[s % COLOURS.length]}"/><text x="${74 + s * 150}" y="${height - 5}" font-size="11">${escape(label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (value: string | number, tag: string) => `<${tag}>${escape(typeof value === 'number' ? format(value) : value)}</${tag}>`;
  return `<table><tr>${headers.map((h) => cell(h, 'th')).join('')}</tr>${rows.map((row) => `<tr>${row.map((v) => cell(v, 'td')).join('')}</tr>`).join('')}</table>`;
}

function runtimeSection(results: readonly RuntimeReport[], goals: { vsHandLoop: number; vsPowertools: number; heapVsWire: number }): string {
  const rows = results.flatMap((report) =>
    report.sizes.map((size) => {
      const subjects = size.subjects;
      return [
        report.workload,
        report.contract,
        size.size,
        subjects['hand-loop']!.cpuUsPerRecord,
        subjects.powertools!.cpuUsPerRecord,
        subjects[report.shardflowSubject]!.cpuUsPerRecord,
        size.vsHandLoop,
        size.vsPowertools,
        `${size.vsHandLoop >= goals.vsHandLoop ? 'met' : 'missed'} / ${size.vsPowertools >= goals.vsPowertools ? 'met' : 'missed'}`,
      ];
    }),
  );
  const chart = (key: 'vsHandLoop' | 'vsPowertools', goal: number, title: string) =>
    barChart(
      title,
      results.map((report) => ({
        label: `${report.workload} ${report.contract}`,
        bars: report.sizes.map((size) => ({ label: `${size.size} records`, value: size[key] })),
      })),
      { value: goal, label: `goal ${goal}x` },
    );
  const memory = results.map((report) => [report.workload, report.contract, report.memory.records, report.memory.wireBytes, report.memory.peakHeapGrowthBytes, report.memory.peakHeapGrowthVsWire]);
  return [
    '<h2>Runtime: records per CPU second against the hand loop and Powertools</h2>',
    table(['workload', 'sink', 'batch', 'hand loop µs/record', 'Powertools µs/record', 'shardflow µs/record', 'vs hand loop', 'vs Powertools', 'goals'], rows),
    chart('vsHandLoop', goals.vsHandLoop, 'shardflow / hand loop (higher is better)'),
    chart('vsPowertools', goals.vsPowertools, "shardflow / Powertools' BatchProcessor (higher is better)"),
    '<h2>Memory: peak heap growth of a ~6 MB batch</h2>',
    table(['workload', 'sink', 'records', 'wire bytes', 'peak heap growth', 'vs wire'], memory),
    barChart(
      'peak heap growth / wire size (lower is better)',
      results.map((report) => ({ label: report.workload, bars: [{ label: report.contract, value: report.memory.peakHeapGrowthVsWire }] })),
      { value: goals.heapVsWire, label: `goal ${goals.heapVsWire}x` },
    ),
  ].join('\n');
}

function schemaSection(report: SchemaReport, goal: number): string {
  const rows = report.sizes.map((size) => [
    size.size,
    size.subjects['hand-loop-zod']!.cpuUsPerRecord,
    size.subjects['powertools-parser']!.cpuUsPerRecord,
    size.subjects[report.shardflowSubject]!.cpuUsPerRecord,
    size.vsHandLoop,
    size.vsPowertools,
    size.vsPowertools >= goal ? 'met' : 'missed',
  ]);
  return [
    `<h2>Schema: ${escape(report.workload)} validated with zod, against Powertools' parser</h2>`,
    table(['batch', 'hand loop (safeParse) µs/record', 'Powertools parser µs/record', 'shardflow µs/record', 'vs hand loop', "vs Powertools' parser", 'goal'], rows),
    barChart(
      "shardflow / Powertools' BatchProcessor with its parser (higher is better)",
      report.sizes.map((size) => ({ label: `${size.size} records`, bars: [{ label: 'zod', value: size.vsPowertools }] })),
      { value: goal, label: `goal ${goal}x` },
    ),
  ].join('\n');
}

function coldStartSection(report: ColdStartReport): string {
  const rows = [
    ['baseline (DynamoDB client only)', report.baseline.bundleBytes, report.baseline.processMs, report.baseline.importAndBuildMs, report.baseline.processWallMs, '', ''],
    ...Object.entries(report.apps).map(([name, app]) => [name, app.bundleBytes, app.processMs, app.importAndBuildMs, app.processWallMs, app.processVsBaseline, app.importAndBuildVsBaseline]),
  ];
  return [
    `<h2>Cold start (${report.runs} processes per bundle)</h2>`,
    table(['bundle', 'bytes', 'process CPU ms', 'import + first invocation CPU ms', 'process wall ms', 'process vs baseline', 'import + build vs baseline'], rows),
    barChart(
      'cold start / baseline (lower is better)',
      Object.entries(report.apps).map(([name, app]) => ({
        label: name,
        bars: [
          { label: 'whole process', value: app.processVsBaseline },
          { label: 'import + build', value: app.importAndBuildVsBaseline },
        ],
      })),
      { value: report.goal, label: `goal ${report.goal}x` },
    ),
  ].join('\n');
}

function sinkCostSection(report: SinkCostReport): string {
  const rows = report.results.map((c) => [
    c.approach,
    c.keys,
    c.approach === 'per-record-add' ? '-' : c.batchSize,
    c.records,
    c.requests,
    c.writeCapacityPerRecord,
    c.writeCapacityVsPerRecordAdd,
    c.requestsVsPerRecordAdd,
    c.wallMsPer1000Records,
    c.redelivery === undefined ? '-' : `${c.redelivery.requests} requests, ${c.redelivery.writeCapacity} WCU (${c.redelivery.writeCapacityIfCancelledCharged} if cancelled ones were charged)`,
  ]);
  return [
    '<h2>Sink cost on DynamoDB Local (write capacity computed from item sizes)</h2>',
    `<p>${escape(report.method)}</p>`,
    table(['approach', 'keys', 'batch', 'records', 'requests', 'WCU / record', 'WCU vs per-record ADD', 'requests vs per-record ADD', 'wall ms / 1,000 records', 'first batch delivered again'], rows),
    barChart(
      'write capacity per record / seeds\u2019 per-record ADD (lower is better)',
      report.results
        .filter((c) => c.approach !== 'per-record-add')
        .map((c) => ({ label: `${c.keys} keys, batch ${c.batchSize}`, bars: [{ label: c.approach, value: c.writeCapacityVsPerRecordAdd }] })),
      { value: 1.25, label: 'goal 1.25x (checkpoint, 100 keys)' },
    ),
  ].join('\n');
}

export function htmlReport(report: Record<string, unknown>): string {
  const machine = report.machine as Record<string, unknown>;
  const goals = report.goals as { vsHandLoop: number; vsPowertools: number; heapVsWire: number; schemaVsPowertoolsParser: number };
  const sections: string[] = [];
  const runtime = report.runtime as { results: RuntimeReport[] } | undefined;
  if (runtime !== undefined) sections.push(runtimeSection(runtime.results, goals));
  const schema = report.schema as { results: SchemaReport } | undefined;
  if (schema !== undefined) sections.push(schemaSection(schema.results, goals.schemaVsPowertoolsParser));
  if (report.coldStart !== undefined) sections.push(coldStartSection(report.coldStart as ColdStartReport));
  if (report.sinkCost !== undefined) sections.push(sinkCostSection(report.sinkCost as SinkCostReport));
  const verdicts = Object.entries(report.verdicts as Record<string, boolean>).map(([name, met]) => [name, met ? 'met' : 'NOT met']);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shardflow benchmark ${escape(String(report.date))}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}svg{display:block;margin:1em 0}</style></head>
<body><h1>shardflow benchmark</h1>
<p>${escape(String(report.date))} &middot; <code>${escape(String(report.command))}</code> &middot; ${escape(`${String(machine.cpu)}, ${String(machine.cores)} cores, ${String(machine.totalMemoryGiB)} GiB, Node ${String(machine.node)} (${String(machine.platform)}), load average at start ${JSON.stringify(machine.loadAverageAtStart)}`)}</p>
${table(['goal', 'verdict'], verdicts)}
${sections.join('\n')}
</body></html>
`;
}
