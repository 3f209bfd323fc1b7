/**
 * Payloads: bytes with lazy, cached text and JSON decoders. This is on the hot path, so decoders live on the
 * prototype (no closures per record) and each decodes at most once.
 */
// Imported rather than read as globals: Node defines the globals `Buffer` and `atob` as getters, so every use
// of them on the per-record path would call a getter.
import { Buffer, atob } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, decodeError, errorMessage, type ShardflowError } from './errors';
import { inexactJsonNumber } from './json-numbers';
import { jsonText } from './json-text';
import type { Payload } from './model';

// fatal: malformed UTF-8 must fail rather than turn into U+FFFD. A BOM is dropped (JSON.parse rejects it).
const utf8 = new TextDecoder('utf-8', { fatal: true });
const NOT_DECODED: unique symbol = Symbol('not decoded');

// One payload per record: its caches are TypeScript-private fields assigned in the constructor (plain stores
// into a preallocated shape), not `#private` fields, which V8 defines one by one with a brand check.
export abstract class CachedPayload implements Payload {
  abstract readonly bytes: Uint8Array;
  abstract readonly gzipped: boolean;
  declare private cachedText: string | typeof NOT_DECODED;
  declare private cachedJson: unknown;

  /** The record this payload belongs to, named in decoding errors. */
  declare readonly recordId: string;

  constructor(recordId: string) {
    this.recordId = recordId;
    this.cachedText = NOT_DECODED;
    this.cachedJson = NOT_DECODED;
  }

  protected decodeText(): string {
    try {
      return utf8.decode(this.bytes);
    } catch (error) {
      throw decodeError(ErrorCode.InvalidUtf8, this.recordId, `its ${this.bytes.length}-byte payload is not valid UTF-8`, error);
    }
  }

  text(): string {
    if (this.cachedText === NOT_DECODED) this.cachedText = this.decodeText();
    return this.cachedText;
  }

  /**
   * Drops the decoded text and JSON, so a batch does not keep every record's parsed payload alive until its
   * sinks run; a later read decodes again (the result is equal, not the same object).
   */
  release(): void {
    this.cachedText = NOT_DECODED;
    this.cachedJson = NOT_DECODED;
  }

  /**
   * The parsed value is cached and shared by every caller: treat it as read-only. A number a double cannot hold
   * exactly is refused with `INVALID_NUMBER` rather than rounded.
   */
  json(): unknown {
    if (this.cachedJson === NOT_DECODED) {
      // The text is not kept once parsed: a batch would hold every payload twice.
      const text = this.cachedText === NOT_DECODED ? this.decodeText() : this.cachedText;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        // The parser's message quotes the data; it stays in `cause`, out of the message that gets logged.
        throw decodeError(ErrorCode.InvalidJson, this.recordId, `its ${this.bytes.length}-byte payload is not valid JSON`, error);
      }
      const inexact = inexactJsonNumber(text);
      if (inexact !== undefined) {
        const shown = inexact.text.length > 60 ? `${inexact.text.slice(0, 57)}...` : inexact.text;
        throw decodeError(
          ErrorCode.InvalidNumber,
          this.recordId,
          `its JSON payload has the number ${shown}, which a JavaScript number cannot hold exactly (it would read as ${inexact.readsAs})`,
        );
      }
      this.cachedJson = parsed;
    }
    return this.cachedJson;
  }
}

/** A payload over bytes already decoded from the wire (a KPL user record's data). */
export class BytesPayload extends CachedPayload {
  declare readonly bytes: Uint8Array;
  declare readonly gzipped: false;

  constructor(bytes: Uint8Array, recordId: string) {
    super(recordId);
    this.bytes = bytes;
    this.gzipped = false;
  }
}

/**
 * A payload over a binary string (one character per byte), as `decodeBase64Binary` decodes Kinesis data. ASCII
 * data, the common case for JSON, is its own text: no bytes are made unless something reads them.
 */
export class BinaryPayload extends CachedPayload {
  declare readonly gzipped: false;
  declare private readonly binary: string;
  declare private cachedBytes: Uint8Array | undefined;

  constructor(binary: string, recordId: string) {
    super(recordId);
    this.gzipped = false;
    this.binary = binary;
    this.cachedBytes = undefined;
  }

  get bytes(): Uint8Array {
    if (this.cachedBytes === undefined) this.cachedBytes = Buffer.from(this.binary, 'latin1');
    return this.cachedBytes;
  }

  protected override decodeText(): string {
    // A byte above 0x7F takes two bytes in UTF-8, so equal lengths mean ASCII, which is UTF-8 as it is.
    if (Buffer.byteLength(this.binary, 'utf8') === this.binary.length) return this.binary;
    return super.decodeText();
  }

  override release(): void {
    super.release();
    this.cachedBytes = undefined;
  }
}

/** A payload that is the JSON text of a value already parsed by Lambda (a DynamoDB record's `dynamodb` section). */
export class JsonValuePayload extends CachedPayload {
  declare readonly gzipped: false;
  declare private cachedBytes: Uint8Array | undefined;
  declare private readonly value: unknown;

  constructor(value: unknown, recordId: string) {
    super(recordId);
    this.gzipped = false;
    this.cachedBytes = undefined;
    this.value = value;
  }

  get bytes(): Uint8Array {
    if (this.cachedBytes === undefined) this.cachedBytes = Buffer.from(this.text(), 'utf8');
    return this.cachedBytes;
  }

  protected override decodeText(): string {
    // Images are checked only when read: an unread one may nest deeper than JSON.stringify can go.
    return jsonText(this.value);
  }

  override release(): void {
    super.release();
    this.cachedBytes = undefined;
  }
}

const BASE64_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64_VALUES['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}
const EQUALS = 61;

/**
 * Decodes standard, padded base64 (RFC 4648 section 4) to a binary string (one character per byte), or returns
 * undefined for anything else. `atob` (native in Node 20, and about three times faster than `Buffer.from(s,
 * 'base64')`) rejects characters outside the alphabet, the URL-safe `-` and `_` and anything above U+007F, but
 * is forgiving: it skips ASCII whitespace and accepts missing padding and non-zero unused bits. So the length
 * must be a multiple of 4, every skipped character shortens the output (its length proves none was skipped),
 * and the unused bits of the last character must be zero (canonical form).
 */
export function decodeBase64Binary(text: string): string | undefined {
  const length = text.length;
  if (length % 4 !== 0) return undefined;
  let padding = 0;
  if (length > 0 && text.charCodeAt(length - 1) === EQUALS) padding = text.charCodeAt(length - 2) === EQUALS ? 2 : 1;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  if (binary.length !== (length / 4) * 3 - padding) return undefined;
  if (padding > 0) {
    const last = BASE64_VALUES[text.charCodeAt(length - 1 - padding)]!;
    if ((last & (padding === 1 ? 0x03 : 0x0f)) !== 0) return undefined;
  }
  return binary;
}

/** `decodeBase64Binary` as bytes. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const binary = decodeBase64Binary(text);
  return binary === undefined ? undefined : Buffer.from(binary, 'latin1');
}

export const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/**
 * The most one gzip payload may inflate to. A record holds at most 1 MiB (10 MiB with raised Kinesis limits) on the
 * wire; this keeps a gzip bomb from taking the function's memory while leaving room for very compressible data.
 */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * What the gzip payloads of one batch may inflate to in total, unless the pipeline says otherwise. A batch is at
 * most 6 MB on the wire, but gzip multiplies it by up to ~1,000: without a budget, a batch of gzip bombs (each
 * within `MAX_INFLATED_BYTES`) takes gigabytes. The budget, with payloads inflated only when read and dropped
 * once their record's processors are done, keeps a batch within a 384 MB heap whatever it holds.
 */
export const DEFAULT_INFLATION_BUDGET_BYTES = 128 * 1024 * 1024;

/** The bytes gzip payloads of one batch may still inflate to. Each payload is charged once, when first inflated. */
export class InflationBudget {
  private remaining: number;

  constructor(readonly limit: number) {
    this.remaining = limit;
  }

  /** Inflates `compressed` within what is left of the budget and charges for it; `INVALID_GZIP` or `INFLATION_BUDGET_EXCEEDED` otherwise. */
  inflate(compressed: Uint8Array, recordId: string): Buffer {
    const allowed = Math.min(MAX_INFLATED_BYTES, this.remaining);
    let inflated: Buffer;
    try {
      inflated = gunzipWithin(compressed, allowed);
    } catch (error) {
      if (!isTooLarge(error) || allowed === MAX_INFLATED_BYTES) throw gzipError(error, recordId);
      throw decodeError(
        ErrorCode.InflationBudgetExceeded,
        recordId,
        `its gzip payload inflates to more than the ${allowed} bytes left of this batch's inflation budget ` +
          `(${this.limit} bytes for all gzip payloads of a batch)`,
        error,
      );
    }
    this.remaining -= inflated.length;
    return inflated;
  }
}

/** No budget beyond `MAX_INFLATED_BYTES` per payload: for records decoded outside a batch. */
export const UNLIMITED_INFLATION = new InflationBudget(Infinity);

/** Inflates gzip to at most `maxOutputLength` bytes; throws zlib's error otherwise. */
function gunzipWithin(compressed: Uint8Array, maxOutputLength: number): Buffer {
  // maxOutputLength must be at least 1; an empty gzip still inflates to nothing.
  return gunzipSync(compressed, { maxOutputLength: Math.max(1, maxOutputLength) });
}

function isTooLarge(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

function gzipError(error: unknown, recordId: string): ShardflowError {
  return decodeError(
    ErrorCode.InvalidGzip,
    recordId,
    isTooLarge(error)
      ? `its gzip payload inflates to more than ${MAX_INFLATED_BYTES} bytes, the most shardflow accepts`
      : `its payload starts with the gzip magic bytes but does not inflate (${errorMessage(error)})`,
    error,
  );
}

/**
 * A gzip payload, inflated when first read: charged to its batch's budget then, and dropped by `release()`. Read
 * again after that, it inflates again without a second charge (the budget admitted its size once).
 */
export class GzipPayload extends CachedPayload {
  declare readonly gzipped: true;
  declare private readonly compressed: Uint8Array;
  declare private readonly budget: InflationBudget;
  declare private inflated: Buffer | undefined;
  /** The inflated size once charged, -1 before. */
  declare private admitted: number;

  constructor(compressed: Uint8Array, recordId: string, budget: InflationBudget) {
    super(recordId);
    this.gzipped = true;
    this.compressed = compressed;
    this.budget = budget;
    this.inflated = undefined;
    this.admitted = -1;
  }

  get bytes(): Uint8Array {
    if (this.inflated === undefined) {
      if (this.admitted === -1) {
        this.inflated = this.budget.inflate(this.compressed, this.recordId);
        this.admitted = this.inflated.length;
      } else {
        try {
          this.inflated = gunzipWithin(this.compressed, this.admitted);
        } catch (error) {
          throw gzipError(error, this.recordId);
        }
      }
    }
    return this.inflated;
  }

  override release(): void {
    super.release();
    this.inflated = undefined;
  }
}

/** A payload over wire bytes: a lazily inflated `GzipPayload` when they start with the gzip magic. */
export function bytesPayload(bytes: Uint8Array, recordId: string, budget: InflationBudget): CachedPayload {
  return isGzip(bytes) ? new GzipPayload(bytes, recordId, budget) : new BytesPayload(bytes, recordId);
}
