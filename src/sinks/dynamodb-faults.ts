/**
 * `DynamoDBFaultSink`: faults in a table (see `faultTableDefinition`). The raw record is stored as gzip-compressed
 * JSON in binary chunks of at most ~350 KB, so records of any size Lambda can deliver (6 MB per invocation) fit
 * the 400 KB item limit without losing a byte.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { ErrorCode, errorMessage, ShardflowError } from '../runtime/errors';
import { jsonText } from '../runtime/json-text';
import type { Provenance } from '../runtime/model';
import { checkName, resolveOptions } from '../runtime/options';
import type { Fault } from '../runtime/types';
import { compareStored, faultIdOf, type DeleteFaultOptions, type FaultStore, type ListFaultsOptions, type StoredFault } from './fault-store';
import { awsErrorName, backoffDelay, deploymentError, isDeploymentAwsError, isRetryableAwsError, resolveBackoff, sleep, type BackoffOptions } from './retry';

const FAULT_KEY = 'faultId';
const PART_KEY = 'part';
/** Raw bytes per item: leaves room under DynamoDB's 400 KB item limit for the key and the metadata. */
const CHUNK_BYTES = 350_000;
/** Metadata beyond this makes the first item too large; a longer error message is cut to fit. */
const MAX_METADATA_BYTES = 40_000;
/**
 * BatchWriteItem takes at most 25 writes and 16 MB. Every item fits DynamoDB's 400 KB item limit (chunks of
 * CHUNK_BYTES plus key and metadata), so 25 writes stay under 10 MB and only the count needs watching.
 */
const BATCH_WRITES = 25;

/**
 * The fault table: `faultId` (S) hash key and `part` (N) range key. Part 0 holds the fault's metadata and the
 * first chunk of the raw record; large records continue in parts 1, 2, ...
 */
export function faultTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [
      { AttributeName: FAULT_KEY, KeyType: 'HASH' },
      { AttributeName: PART_KEY, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: FAULT_KEY, AttributeType: 'S' },
      { AttributeName: PART_KEY, AttributeType: 'N' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export interface DynamoDBFaultSinkOptions {
  readonly client: DynamoDBClient;
  /** The fault table (see `faultTableDefinition`). */
  readonly table: string;
  /**
   * Name in logs and errors.
   * @default 'dynamodb-faults'
   */
  readonly name?: string;
  /** Retries of throttling and UnprocessedItems. */
  readonly backoff?: BackoffOptions;
}

const COMPONENT = 'DynamoDBFaultSink';

const DEFAULTS = {
  name: 'dynamodb-faults',
  backoff: undefined as BackoffOptions | undefined,
} satisfies Omit<DynamoDBFaultSinkOptions, 'client' | 'table'>;

interface Metadata {
  readonly recordId: string;
  readonly provenance: Partial<Provenance>;
  readonly position: number;
  readonly error: Fault['error'];
  readonly stage: string;
  readonly capturedAt: number;
}

export class DynamoDBFaultSink implements FaultStore {
  readonly name: string;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly backoff: Required<BackoffOptions>;

  constructor(options: DynamoDBFaultSinkOptions) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['client', 'table']);
    checkName(COMPONENT, 'table', settings.table);
    checkName(COMPONENT, 'name', settings.name);
    this.name = settings.name;
    this.client = settings.client;
    this.table = settings.table;
    this.backoff = resolveBackoff(settings.backoff, COMPONENT);
  }

  /**
   * Stores the faults. Chunks of large records are written before the items that point at them, so a listed fault
   * is always complete. Throws a retryable `FAULT_CAPTURE_FAILED` when a fault could not be stored, so the batch
   * loop reports the records for retry instead of losing them: naming the records when the table kept throttling
   * or left items unprocessed, and only the table when DynamoDB refused the write itself. A missing table, a
   * missing permission, a wrong endpoint or bad credentials throw `DEPLOYMENT_ERROR`, which fails the batch.
   */
  async capture(faults: readonly Fault[]): Promise<void> {
    const chunks: WriteRequest[] = [];
    const heads: { request: WriteRequest; recordId: string }[] = [];
    // One write per fault id: BatchWriteItem refuses two writes of one key, and the later capture is the newer.
    const latest = new Map<string, { fault: Fault; rawText: string }>();
    for (const fault of faults) {
      // Written without recursion: a record may nest deeper than JSON.stringify can go.
      const rawText = jsonText(fault.raw);
      latest.set(faultIdOf(fault, rawText), { fault, rawText });
    }
    for (const [faultId, { fault, rawText }] of latest) {
      const raw = gzipSync(Buffer.from(rawText, 'utf8'));
      const parts = Math.max(1, Math.ceil(raw.length / CHUNK_BYTES));
      for (let part = 1; part < parts; part++) {
        chunks.push({
          PutRequest: {
            Item: {
              [FAULT_KEY]: { S: faultId },
              [PART_KEY]: { N: String(part) },
              raw: { B: raw.subarray(part * CHUNK_BYTES, (part + 1) * CHUNK_BYTES) },
            },
          },
        });
      }
      heads.push({
        recordId: fault.recordId,
        request: {
          PutRequest: {
            Item: {
              [FAULT_KEY]: { S: faultId },
              [PART_KEY]: { N: '0' },
              captureId: { S: randomUUID() },
              recordId: { S: bounded(fault.recordId) },
              streamArn: { S: bounded(fault.provenance.streamArn ?? '') },
              stage: { S: fault.stage },
              errorCode: { S: fault.error.code },
              capturedAt: { N: String(fault.capturedAt) },
              metadata: { S: metadataJsonOf(fault) },
              parts: { N: String(parts) },
              rawEncoding: { S: 'json+gzip' },
              raw: { B: raw.subarray(0, CHUNK_BYTES) },
            },
          },
        },
      });
    }
    // Unwritten requests come back as UnprocessedItems copies, so they are matched by fault id.
    const idOf = (request: WriteRequest) => request.PutRequest?.Item?.[FAULT_KEY]?.S;
    const incomplete = new Set((await this.write(chunks)).map(idOf));
    // A head whose chunks did not all land is not written: it would point at missing data.
    const ready = heads.filter(({ request }) => !incomplete.has(idOf(request)));
    const unwritten = new Set((await this.write(ready.map(({ request }) => request))).map(idOf));
    const notStored = heads
      .filter(({ request }) => incomplete.has(idOf(request)) || unwritten.has(idOf(request)))
      .map((head) => head.recordId);
    if (notStored.length > 0) {
      throw new ShardflowError(
        ErrorCode.FaultCaptureFailed,
        `Fault sink ${this.name} did not store every fault: records ${notStored.join(', ')} could not be written to ` +
          `table ${this.table} in time.`,
      );
    }
  }

  async listFaults(options: ListFaultsOptions = {}): Promise<StoredFault[]> {
    const heads: { item: Record<string, AttributeValue>; metadata: Metadata }[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    const filters = ['#part = :zero'];
    const names: Record<string, string> = { '#part': PART_KEY };
    const values: Record<string, AttributeValue> = { ':zero': { N: '0' } };
    if (options.streamArn !== undefined) {
      filters.push('#stream = :stream');
      names['#stream'] = 'streamArn';
      values[':stream'] = { S: options.streamArn };
    }
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: filters.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) heads.push({ item, metadata: JSON.parse(item.metadata?.S ?? '{}') as Metadata });
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    // Ordered and cut by metadata first, so only the faults returned have their raw data read and unzipped.
    heads.sort((a, b) => compareStored(a.metadata, b.metadata));
    const faults: StoredFault[] = [];
    for (const { item, metadata } of options.limit === undefined ? heads : heads.slice(0, options.limit)) {
      faults.push(await this.read(item, metadata));
    }
    return faults;
  }

  async deleteFault(faultId: string, options: DeleteFaultOptions = {}): Promise<boolean> {
    let parts: number;
    try {
      const { Attributes } = await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { [FAULT_KEY]: { S: faultId }, [PART_KEY]: { N: '0' } },
          ConditionExpression:
            options.captureId === undefined ? 'attribute_exists(#id)' : 'attribute_exists(#id) AND captureId = :capture',
          ExpressionAttributeNames: { '#id': FAULT_KEY },
          ExpressionAttributeValues: options.captureId === undefined ? undefined : { ':capture': { S: options.captureId } },
          ReturnValues: 'ALL_OLD',
        }),
      );
      parts = Number(Attributes?.parts?.N ?? '1');
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
    const chunks = Array.from({ length: parts - 1 }, (_, index) => ({
      DeleteRequest: { Key: { [FAULT_KEY]: { S: faultId }, [PART_KEY]: { N: String(index + 1) } } },
    }));
    const left = await this.write(chunks);
    if (left.length > 0) {
      throw new ShardflowError(
        ErrorCode.SinkTransient,
        `Fault sink ${this.name} deleted fault ${faultId} but ${left.length} of its raw-data chunks remain in ` +
          `table ${this.table}; delete them again later.`,
      );
    }
    return true;
  }

  private async read(item: Record<string, AttributeValue>, metadata: Metadata): Promise<StoredFault> {
    const faultId = item[FAULT_KEY]?.S ?? '';
    const parts = Number(item.parts?.N ?? '1');
    const chunks: Uint8Array[] = [item.raw?.B ?? new Uint8Array()];
    if (parts > 1) {
      let startKey: Record<string, AttributeValue> | undefined;
      const rest: Uint8Array[] = new Array<Uint8Array>(parts - 1);
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#id = :id AND #part > :zero',
            ExpressionAttributeNames: { '#id': FAULT_KEY, '#part': PART_KEY },
            ExpressionAttributeValues: { ':id': { S: faultId }, ':zero': { N: '0' } },
            ExclusiveStartKey: startKey,
            ConsistentRead: true,
          }),
        );
        for (const chunk of page.Items ?? []) {
          const part = Number(chunk[PART_KEY]?.N);
          if (part < parts && chunk.raw?.B !== undefined) rest[part - 1] = chunk.raw.B;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      chunks.push(...rest);
    }
    if (chunks.some((chunk) => chunk === undefined)) {
      throw new ShardflowError(
        ErrorCode.SinkPermanent,
        `Fault ${faultId} in table ${this.table} is missing raw-data chunks; its record ${metadata.recordId} cannot be rebuilt.`,
      );
    }
    const raw: unknown = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8'));
    return { ...metadata, raw, faultId, captureId: item.captureId?.S ?? '' };
  }

  /** BatchWriteItem in groups, retrying UnprocessedItems and retryable errors; returns what could not be written. */
  private async write(requests: readonly WriteRequest[]): Promise<WriteRequest[]> {
    const left: WriteRequest[] = [];
    for (const group of groupWrites(requests)) {
      let pending = group;
      for (let attempt = 1; pending.length > 0; attempt++) {
        try {
          const { UnprocessedItems } = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }),
          );
          pending = UnprocessedItems?.[this.table] ?? [];
        } catch (error) {
          if (isDeploymentAwsError(error)) throw deploymentError(`Fault sink ${this.name}`, `table ${this.table}`, error);
          if (!isRetryableAwsError(error)) {
            throw new ShardflowError(
              ErrorCode.FaultCaptureFailed,
              `Fault sink ${this.name} cannot write to table ${this.table} (${awsErrorName(error)}: ${errorMessage(error)}).`,
              { cause: error },
            );
          }
        }
        if (pending.length === 0) break;
        if (attempt >= this.backoff.maxAttempts) {
          left.push(...pending);
          break;
        }
        await sleep(backoffDelay(attempt, this.backoff));
      }
    }
    return left;
  }
}

function groupWrites(requests: readonly WriteRequest[]): WriteRequest[][] {
  const groups: WriteRequest[][] = [];
  for (let start = 0; start < requests.length; start += BATCH_WRITES) groups.push(requests.slice(start, start + BATCH_WRITES));
  return groups;
}

/** Identifiers AWS keeps short, which a forged record (or a KPL user record's key) need not. */
const MAX_IDENTIFIER_LENGTH = 2048;

/** An identifier cut to MAX_IDENTIFIER_LENGTH characters for the metadata; the raw record keeps it whole. */
function bounded(text: string): string {
  return text.length <= MAX_IDENTIFIER_LENGTH ? text : `${text.slice(0, MAX_IDENTIFIER_LENGTH)}… [cut: ${text.length} characters]`;
}

/**
 * The fault's metadata as JSON of at most MAX_METADATA_BYTES: identifiers are cut to MAX_IDENTIFIER_LENGTH
 * characters, and a longer error message is cut to fit, with a note saying so. Refusing the fault instead would fail
 * the same way on every retry; the raw record keeps everything whole.
 */
function metadataJsonOf(fault: Fault): string {
  const provenance = Object.fromEntries(
    Object.entries(fault.provenance).map(([key, value]) => [key, typeof value === 'string' ? bounded(value) : value]),
  ) as Partial<Provenance>;
  const metadata: Metadata = {
    recordId: bounded(fault.recordId),
    provenance,
    position: fault.position,
    error: fault.error,
    stage: fault.stage,
    capturedAt: fault.capturedAt,
  };
  const json = JSON.stringify(metadata);
  if (Buffer.byteLength(json) <= MAX_METADATA_BYTES) return json;
  const { message } = fault.error;
  const note = ` [cut to fit the fault table; the whole message had ${Buffer.byteLength(message)} bytes]`;
  const withPrefix = (length: number) => {
    // A prefix ending inside a surrogate pair would keep half a character.
    const end = /[\uD800-\uDBFF]/.test(message.charAt(length - 1)) ? length - 1 : length;
    return JSON.stringify({ ...metadata, error: { ...fault.error, message: message.slice(0, end) + note } });
  };
  // The longest prefix that fits: JSON escapes and UTF-8 make its byte size uneven, so it is searched for.
  let low = 0;
  let high = message.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(withPrefix(middle)) <= MAX_METADATA_BYTES) low = middle;
    else high = middle - 1;
  }
  return withPrefix(low);
}
