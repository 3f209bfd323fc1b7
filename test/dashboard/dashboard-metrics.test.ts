import { DASHBOARD_WIDGETS, MetricSource } from '../../src/dashboard/definition';
import { EmfReader } from '../../src/dashboard/emf-reader';
import { emfText, handlerOutput } from './handler-metrics';

/** The metrics Lambda publishes for functions and event source mappings (Lambda guide, "monitoring-metrics-types"). */
const LAMBDA_DOCUMENTED: Readonly<Record<string, readonly string[]>> = {
  [MetricSource.Function]: ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'IteratorAge', 'DestinationDeliveryFailures'],
  [MetricSource.EventSourceMapping]: ['PolledEventCount', 'FilteredOutEventCount', 'InvokedEventCount', 'FailedInvokeEventCount', 'DroppedEventCount', 'OnFailureDestinationDeliveredEventCount'],
};

describe('the dashboard definition', () => {
  let emitted: Set<string>;
  beforeAll(async () => {
    const reader = new EmfReader();
    reader.readText(emfText(await handlerOutput('coverage', 10)));
    emitted = new Set(reader.end().map((sample) => sample.name));
  });
  const metrics = DASHBOARD_WIDGETS.flatMap((widget) => widget.metrics);

  it('plots only metrics a handler and its sinks emit', () => {
    const own = metrics.filter((metric) => metric.source === MetricSource.Shardflow).map((metric) => metric.name);
    expect(own.filter((name) => !emitted.has(name))).toEqual([]);
  });

  it('plots every metric a handler and its sinks emit', () => {
    const plotted = new Set<string>(metrics.map((metric) => metric.name));
    expect([...emitted].filter((name) => !plotted.has(name))).toEqual([]);
  });

  it('plots Lambda\'s own metrics under the names Lambda publishes', () => {
    for (const metric of metrics) {
      if (metric.source !== MetricSource.Shardflow) expect(LAMBDA_DOCUMENTED[metric.source]).toContain(metric.name);
    }
  });

  it('has widgets with distinct titles, each plotting something', () => {
    expect(new Set(DASHBOARD_WIDGETS.map((widget) => widget.title)).size).toBe(DASHBOARD_WIDGETS.length);
    for (const widget of DASHBOARD_WIDGETS) expect(widget.metrics.length).toBeGreaterThan(0);
  });
});
