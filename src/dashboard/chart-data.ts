/**
 * The dashboard's widgets over EMF samples, per service, the way CloudWatch graphs them: values grouped into periods
 * of time and reduced with each metric's statistic. A period without values sums to zero (no batch, nothing
 * counted) and has no maximum or average (a gap). The period adapts to the span of the samples (a replay lasts
 * seconds, a CloudWatch export days) so every chart has a readable number of points.
 */
import { DASHBOARD_WIDGETS, MetricSource, Statistic, type DashboardWidget } from './definition';
import type { MetricSample } from './emf-reader';

export interface ChartSeries {
  readonly label: string;
  /** One value per period of the report; null where the statistic has no value (a maximum of nothing). */
  readonly values: readonly (number | null)[];
}

export interface WidgetChart {
  readonly title: string;
  readonly unit: DashboardWidget['unit'];
  readonly series: readonly ChartSeries[];
}

/** A widget drawn as a note instead of a chart: why the logs hold nothing for it. */
export interface WidgetNote {
  readonly title: string;
  readonly unit: DashboardWidget['unit'];
  readonly note: string;
}

export type WidgetView = WidgetChart | WidgetNote;

export interface ServiceView {
  readonly service: string;
  readonly widgets: readonly WidgetView[];
}

export interface ReportData {
  /** Start of each period, epoch milliseconds; shared by every chart. */
  readonly times: readonly number[];
  readonly periodMs: number;
  /** Services in name order. */
  readonly services: readonly ServiceView[];
}

/** Periods a report may use: CloudWatch's from one minute up, shorter ones for local runs. */
const PERIODS_MS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];
/** Periods a chart shows at most. */
const MAX_PERIODS = 60;

export const CLOUDWATCH_ONLY_NOTE = "Published by Lambda to CloudWatch (AWS/Lambda), never written to logs: see the app's CloudWatch dashboard.";
export const NO_DATA_NOTE = 'No data in these logs.';

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
const REDUCERS: Readonly<Record<Statistic, (values: readonly number[]) => number | null>> = {
  [Statistic.Sum]: sum,
  [Statistic.Maximum]: (values) => (values.length === 0 ? null : values.reduce((max, value) => Math.max(max, value), -Infinity)),
  [Statistic.Average]: (values) => (values.length === 0 ? null : sum(values) / values.length),
};

function periodFor(spanMs: number): number {
  return PERIODS_MS.find((period) => spanMs / period <= MAX_PERIODS) ?? (PERIODS_MS[PERIODS_MS.length - 1] as number);
}

export function reportData(samples: readonly MetricSample[], widgets: readonly DashboardWidget[] = DASHBOARD_WIDGETS): ReportData {
  if (samples.length === 0) return { times: [], periodMs: PERIODS_MS[0] as number, services: [] };
  let first = Infinity;
  let last = -Infinity;
  for (const { time } of samples) {
    first = Math.min(first, time);
    last = Math.max(last, time);
  }
  const periodMs = periodFor(last - first);
  const start = Math.floor(first / periodMs) * periodMs;
  const times = Array.from({ length: Math.floor((last - start) / periodMs) + 1 }, (_, index) => start + index * periodMs);

  // Values by service, metric and period.
  const byService = new Map<string, Map<string, number[][]>>();
  for (const { service, name, time, value } of samples) {
    const metrics = byService.get(service) ?? new Map<string, number[][]>();
    byService.set(service, metrics);
    const periods = metrics.get(name) ?? times.map((): number[] => []);
    metrics.set(name, periods);
    (periods[Math.floor((time - start) / periodMs)] as number[]).push(value);
  }

  const services = [...byService.keys()].sort().map((service): ServiceView => {
    const metrics = byService.get(service) as Map<string, number[][]>;
    return {
      service,
      widgets: widgets.map((widget): WidgetView => {
        const own = widget.metrics.filter((metric) => metric.source === MetricSource.Shardflow);
        if (own.length === 0) return { title: widget.title, unit: widget.unit, note: CLOUDWATCH_ONLY_NOTE };
        if (!own.some((metric) => metrics.has(metric.name))) return { title: widget.title, unit: widget.unit, note: NO_DATA_NOTE };
        const series = own.map((metric) => ({
          label: metric.label,
          values: (metrics.get(metric.name) ?? times.map(() => [])).map((values) => REDUCERS[metric.statistic](values)),
        }));
        return { title: widget.title, unit: widget.unit, series };
      }),
    };
  });
  return { times, periodMs, services };
}
