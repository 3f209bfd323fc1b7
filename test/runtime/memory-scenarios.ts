/** The hostile batches of memory.test.ts and what its child process reports about each. */

export const Scenario = {
  /** A 6 MB batch of gzip records: gzip bombs of 60 MiB each (zeros, and JSON), and good score records. */
  GzipBatch: 'gzip-batch',
  /** KPL aggregates of gzip bombs, with good score records among them. */
  KplGzip: 'kpl-gzip',
  /** KPL aggregates whose thousand user records all fail. */
  KplAllFail: 'kpl-all-fail',
  /** Gzip records of 64 KiB of JSON each that parses into as many objects as JSON can make of its bytes. */
  JsonExpansion: 'json-expansion',
} as const;
export type Scenario = (typeof Scenario)[keyof typeof Scenario];

export interface ChildResult {
  readonly wireBytes: number;
  readonly records: number;
  readonly processed: number;
  readonly faulted: number;
  readonly batchItemFailures: number;
  readonly faultCodes: Record<string, number>;
  readonly faultRequests: number;
  readonly faultRequestBytes: number;
  readonly peakRssBytes: number;
  readonly peakHeapBytes: number;
}
