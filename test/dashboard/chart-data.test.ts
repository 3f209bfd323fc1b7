import { CLOUDWATCH_ONLY_NOTE, NO_DATA_NOTE, reportData, type WidgetChart } from '../../src/dashboard/chart-data';
import { DASHBOARD_WIDGETS, MetricSource, Statistic, type DashboardWidget } from '../../src/dashboard/definition';
import type { MetricSample } from '../../src/dashboard/emf-reader';

const sample = (time: number, name: string, value: number, service = 'app'): MetricSample => ({ time, service, name, value });

const WIDGET: DashboardWidget = {
  title: 'test',
  unit: 'Count',
  metrics: [
    { source: MetricSource.Shardflow, name: 'RecordsIn', statistic: Statistic.Sum, label: 'sum' },
    { source: MetricSource.Shardflow, name: 'RecordsIn', statistic: Statistic.Maximum, label: 'max' },
    { source: MetricSource.Shardflow, name: 'RecordsIn', statistic: Statistic.Average, label: 'average' },
  ],
};

describe('reportData', () => {
  it('reduces each period with each metric\'s statistic: an empty period sums to zero and has no maximum or average', () => {
    // 0 s to 5.5 s: a span of 5.5 s fits 60 periods of 100 ms.
    const data = reportData([sample(0, 'RecordsIn', 2), sample(50, 'RecordsIn', 4), sample(250, 'RecordsIn', 7), sample(5_500, 'RecordsIn', 1)], [WIDGET]);
    expect(data.periodMs).toBe(100);
    expect(data.times).toHaveLength(56);
    const [sum, max, average] = (data.services[0]?.widgets[0] as WidgetChart).series.map((series) => series.values);
    expect(sum?.slice(0, 4)).toEqual([6, 0, 7, 0]);
    expect(max?.slice(0, 4)).toEqual([4, null, 7, null]);
    expect(average?.slice(0, 4)).toEqual([3, null, 7, null]);
    expect(sum?.at(-1)).toBe(1);
  });

  it('picks longer periods for longer spans, up to a day', () => {
    expect(reportData([sample(0, 'RecordsIn', 1), sample(3_600_000, 'RecordsIn', 1)], [WIDGET]).periodMs).toBe(60_000);
    expect(reportData([sample(0, 'RecordsIn', 1), sample(400 * 86_400_000, 'RecordsIn', 1)], [WIDGET]).periodMs).toBe(86_400_000);
  });

  it('gives each service its widgets, in name order, with notes where the logs cannot hold the data', () => {
    const data = reportData([sample(0, 'RecordsIn', 1, 'orders'), sample(0, 'RecordsIn', 1, 'cart')]);
    expect(data.services.map((view) => view.service)).toEqual(['cart', 'orders']);
    const widgets = data.services[0]?.widgets ?? [];
    expect(widgets.map((widget) => widget.title)).toEqual(DASHBOARD_WIDGETS.map((widget) => widget.title));
    DASHBOARD_WIDGETS.forEach((widget, index) => {
      const view = widgets[index];
      if (widget.metrics.every((metric) => metric.source !== MetricSource.Shardflow)) expect(view).toMatchObject({ note: CLOUDWATCH_ONLY_NOTE });
      else if (!widget.metrics.some((metric) => metric.name === 'RecordsIn')) expect(view).toMatchObject({ note: NO_DATA_NOTE });
      else expect(view).toHaveProperty('series');
    });
  });

  it('is empty without samples', () => {
    expect(reportData([])).toMatchObject({ times: [], services: [] });
  });
});
