/**
 * Reads the metrics shardflow handlers publish as CloudWatch Embedded Metric Format out of log text: the raw lines
 * of `replay`, `dev` or `npm start`, lines with a prefix (a CloudWatch Logs export to S3 puts a timestamp first),
 * Lambda's JSON log format (the EMF document in `message`), or the JSON of `aws logs filter-log-events` /
 * `get-log-events` (`events[].message`). Anything else in the text is skipped.
 */
import { readFile } from 'node:fs/promises';
import { METRICS_NAMESPACE } from '../runtime/metrics';

/** One value of one metric, as a handler published it. */
export interface MetricSample {
  /** Epoch milliseconds (the EMF document's `_aws.Timestamp`). */
  readonly time: number;
  /** The `service` dimension: the app's name. */
  readonly service: string;
  readonly name: string;
  readonly value: number;
}

/** The service of EMF documents that carry none. */
export const UNKNOWN_SERVICE = '(no service)';

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects samples from text given in chunks (a tee of stdout) or whole (a file). */
export class EmfReader {
  private readonly collected: MetricSample[] = [];
  private partial = '';

  /** Text as it comes; a line split between chunks is read once complete. */
  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.readLine(line);
  }

  /** Reads what is left of the text and returns every sample so far, in the order read. */
  end(): readonly MetricSample[] {
    this.readLine(this.partial);
    this.partial = '';
    return this.collected;
  }

  /** A whole text: one JSON document (the Logs API's output), or lines. */
  readText(text: string): void {
    const document = parseJson(text);
    if (document === undefined) this.push(`${text}\n`);
    else this.readDocument(document);
  }

  private readLine(line: string): void {
    const start = line.indexOf('{');
    if (start === -1) return;
    const document = parseJson(line.slice(start));
    if (document !== undefined) this.readDocument(document);
  }

  private readDocument(document: unknown): void {
    if (Array.isArray(document)) {
      for (const item of document) this.readDocument(item);
      return;
    }
    if (!isObject(document)) return;
    if (isObject(document._aws)) {
      this.readEmf(document, document._aws);
    } else if (Array.isArray(document.events)) {
      this.readDocument(document.events);
    } else if (typeof document.message === 'string') {
      this.readLine(document.message);
    } else if (isObject(document.message)) {
      this.readDocument(document.message);
    }
  }

  private readEmf(document: JsonObject, aws: JsonObject): void {
    const time = aws.Timestamp;
    const directives = aws.CloudWatchMetrics;
    if (typeof time !== 'number' || !Array.isArray(directives)) return;
    const service = typeof document.service === 'string' ? document.service : UNKNOWN_SERVICE;
    for (const directive of directives) {
      if (!isObject(directive) || directive.Namespace !== METRICS_NAMESPACE || !Array.isArray(directive.Metrics)) continue;
      for (const metric of directive.Metrics) {
        const name = isObject(metric) ? metric.Name : undefined;
        if (typeof name !== 'string') continue;
        // EMF allows an array of values for one metric in one document.
        const values: unknown[] = Array.isArray(document[name]) ? (document[name] as unknown[]) : [document[name]];
        for (const value of values) {
          if (typeof value === 'number' && Number.isFinite(value)) this.collected.push({ time, service, name, value });
        }
      }
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Every sample in the files, read in the order given. */
export async function readMetricFiles(paths: readonly string[]): Promise<readonly MetricSample[]> {
  const reader = new EmfReader();
  for (const path of paths) reader.readText(await readFile(path, 'utf8'));
  return reader.end();
}
