import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLOUDWATCH_ONLY_NOTE } from '../../src/dashboard/chart-data';
import { DASHBOARD_WIDGETS, MetricSource } from '../../src/dashboard/definition';
import { EmfReader } from '../../src/dashboard/emf-reader';
import { writeDashboardReport } from '../../src/dashboard/report';
import { launchChromium, type Browser } from './browser';
import { emfText, handlerOutput } from './handler-metrics';

interface DrawnWidget {
  readonly service: string;
  readonly title: string;
  readonly note: string | undefined;
  /** Pixels of a saturated colour (the series' strokes; grid, axes and text are grey). */
  readonly colouredPixels: number | undefined;
}

describe('the dashboard page in Chromium', () => {
  const folder = mkdtempSync(join(tmpdir(), 'shardflow-report-'));
  let browser: Browser;
  const errors: string[] = [];
  const requests: string[] = [];
  let drawn: DrawnWidget[];

  beforeAll(async () => {
    const reader = new EmfReader();
    for (const service of ['cart', 'orders']) reader.readText(emfText(await handlerOutput(service, 12)));
    const output = await writeDashboardReport({ samples: reader.end(), output: join(folder, 'report.html'), sources: ['handler test'] });
    browser = await launchChromium();
    const page = await browser.context.newPage();
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(output).href);
    await page.waitForSelector('body[data-charts="drawn"]');
    drawn = await page.$$eval('section', (sections) =>
      sections.flatMap((section) =>
        [...section.querySelectorAll('figure')].map((figure) => {
          const canvas = figure.querySelector('canvas');
          let colouredPixels: number | undefined;
          if (canvas !== null) {
            const { data } = (canvas.getContext('2d') as { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }).getImageData(0, 0, canvas.width, canvas.height);
            colouredPixels = 0;
            for (let at = 0; at < data.length; at += 4) {
              const [r, g, b, a] = [data[at] as number, data[at + 1] as number, data[at + 2] as number, data[at + 3] as number];
              if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 80) colouredPixels += 1;
            }
          }
          return {
            service: section.querySelector('h2')?.textContent ?? '',
            title: figure.querySelector('figcaption')?.textContent ?? '',
            note: figure.querySelector('.note')?.textContent ?? undefined,
            colouredPixels,
          };
        }),
      ),
    );
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('loads without a console error and without a request beyond the page itself', () => {
    expect(errors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    expect(new Set(requests).size).toBe(1);
  });

  it('shows every widget of the definition for every service', () => {
    expect(drawn.map(({ service, title }) => `${service}: ${title}`)).toEqual(
      ['cart', 'orders'].flatMap((service) => DASHBOARD_WIDGETS.map((widget) => `${service}: ${widget.title}`)),
    );
  });

  it('draws data on the chart of every widget with handler metrics, and explains the others', () => {
    for (const [index, widget] of drawn.entries()) {
      const definition = DASHBOARD_WIDGETS[index % DASHBOARD_WIDGETS.length];
      if (definition?.metrics.some((metric) => metric.source === MetricSource.Shardflow)) {
        expect({ title: widget.title, drawn: (widget.colouredPixels ?? 0) > 100 }).toEqual({ title: widget.title, drawn: true });
      } else {
        expect({ title: widget.title, note: widget.note, chart: widget.colouredPixels }).toEqual({ title: widget.title, note: CLOUDWATCH_ONLY_NOTE, chart: undefined });
      }
    }
  });
});
