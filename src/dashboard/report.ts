/** Writes the dashboard report of some EMF samples: the shared widgets, per service, as one HTML file. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { reportData } from './chart-data';
import type { MetricSample } from './emf-reader';
import { reportHtml } from './html-page';

export interface ReportOptions {
  readonly samples: readonly MetricSample[];
  /** The HTML file to write (replaced); its folder is created when missing. */
  readonly output: string;
  /** Where the samples came from, shown on the page. */
  readonly sources: readonly string[];
  /**
   * Only these services (app names).
   * @default every service in the samples
   */
  readonly services?: readonly string[];
  /** @default 'shardflow dashboard' */
  readonly title?: string;
}

/** Writes the report and resolves to its absolute path. */
export async function writeDashboardReport(options: ReportOptions): Promise<string> {
  const wanted = options.services === undefined ? undefined : new Set(options.services);
  const samples = wanted === undefined ? options.samples : options.samples.filter((sample) => wanted.has(sample.service));
  const output = resolve(options.output);
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, reportHtml({ title: options.title ?? 'shardflow dashboard', sources: options.sources, data: reportData(samples) }));
  return output;
}
