/**
 * Seed 000 "page view tags", HTTP side, as Lambda handlers for API Gateway proxy events (REST API, or HTTP API
 * with payload format 1.0):
 * - `GET /tag/{tag}` adds 1 to the tag item's `Count` (UpdateItem ADD) and shows the new count;
 * - `GET /counts/{tag}` shows the tag's `Count` and the COUNTER item's `TotalViews` (kept by the tags app).
 * HTML by default, JSON when asked (`?format=json`, or an `Accept` header preferring application/json). Unlike the
 * seed, which put the tag into its HTML as given, every value is HTML-escaped, and tags are validated (and put in
 * Unicode NFC, so one tag is one item however it was typed) before anything is written. HTML is sent with a
 * Content-Security-Policy that allows nothing to load or run, and every response with `nosniff`.
 */
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ErrorCode, ShardflowError, awsErrorName, createLogger, errorMessage, isRetryableAwsError } from '../index';
import { COUNTER_ID, PAGE_VIEWS } from './tables';

/** The parts of an API Gateway proxy event the handlers read. */
export type TagsHttpEvent = Pick<APIGatewayProxyEvent, 'httpMethod' | 'path' | 'headers' | 'queryStringParameters'> &
  Partial<Pick<APIGatewayProxyEvent, 'pathParameters'>>;

export type TagsHttpHandler = (event: TagsHttpEvent) => Promise<APIGatewayProxyResult>;

export interface TagsHttpOptions {
  readonly dynamodb: DynamoDBClient;
  /**
   * The page-view table (key `ID` S).
   * @default 'PageViews'
   */
  readonly table?: string;
  /**
   * The item holding TotalViews; it cannot be visited as a tag.
   * @default 'COUNTER'
   */
  readonly counterId?: string;
  /**
   * The longest tag accepted, in characters.
   * @default 100
   */
  readonly maxTagLength?: number;
}

export interface TagsHttpHandlers {
  /** `GET /tag/{tag}`. */
  readonly visit: TagsHttpHandler;
  /** `GET /counts/{tag}`. */
  readonly counts: TagsHttpHandler;
  /** Both routes behind one function (a `{proxy+}` resource, or a local server): dispatches on the path. */
  readonly route: TagsHttpHandler;
}

const DEFAULTS = { table: PAGE_VIEWS, counterId: COUNTER_ID, maxTagLength: 100 } as const;
const OPTION_KEYS = ['dynamodb', ...Object.keys(DEFAULTS)];
const COMPONENT = 'createTagsHttpHandlers';

/** A response format. */
const ResponseFormat = { Html: 'html', Json: 'json' } as const;
type ResponseFormat = (typeof ResponseFormat)[keyof typeof ResponseFormat];

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

function header(event: TagsHttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * JSON when `?format=json`, HTML when `?format=html`; otherwise whichever of application/json and text/html the
 * Accept header ranks higher (by q, then by order). HTML when nothing decides, as the seed served.
 */
export function responseFormat(event: TagsHttpEvent): ResponseFormat {
  const format = event.queryStringParameters?.format?.toLowerCase();
  if (format === ResponseFormat.Json || format === ResponseFormat.Html) return format;
  const accept = header(event, 'accept');
  if (accept === undefined) return ResponseFormat.Html;
  let best: { format: ResponseFormat; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = Number(parameters.find((parameter) => parameter.startsWith('q='))?.slice(2) ?? '1');
    const candidate = type === 'application/json' ? ResponseFormat.Json : type === 'text/html' ? ResponseFormat.Html : undefined;
    if (candidate !== undefined && Number.isFinite(q) && q > 0 && (best === undefined || q > best.q)) best = { format: candidate, q };
  }
  return best?.format ?? ResponseFormat.Html;
}

/** Zero-width characters and the bidirectional marks, embeddings, overrides and isolates. */
const INVISIBLE = /[\u200B-\u200F\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u061C]/u;

type Route = 'tag' | 'counts';
const ROUTE_PATTERN = /(?:^|\/)(tag|counts)\/([^/]*)\/?$/;

/** The raw tag of a request: the decoded path parameter, or the last path segment (still percent-encoded). */
function rawTag(event: TagsHttpEvent, route: Route): { ok: true; tag: string } | { ok: false; reason: string } {
  const parameter = event.pathParameters?.tag;
  if (parameter !== undefined && parameter !== null) return { ok: true, tag: parameter };
  const match = ROUTE_PATTERN.exec(event.path ?? '');
  if (match === null || match[1] !== route) return { ok: false, reason: `the path must be /${route}/{tag}` };
  try {
    return { ok: true, tag: decodeURIComponent(match[2] ?? '') };
  } catch {
    return { ok: false, reason: 'the tag is not valid percent-encoded UTF-8' };
  }
}

function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
    `<body>\n${body}\n</body>\n</html>\n`
  );
}

/** The pages have no scripts, styles or images, and are not meant to be framed: nothing else may load or run. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function respond(statusCode: number, format: ResponseFormat, json: Record<string, unknown>, html: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'Content-Type': format === ResponseFormat.Json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
      // Counts change with every visit, and the format depends on Accept.
      'Cache-Control': 'no-store',
      Vary: 'Accept',
      // A browser must not guess another type than the one sent (a tag could make a body look like a script).
      'X-Content-Type-Options': 'nosniff',
      ...(format === ResponseFormat.Html ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {}),
    },
    body: format === ResponseFormat.Json ? JSON.stringify(json) : html,
  };
}

function problem(statusCode: number, format: ResponseFormat, message: string): APIGatewayProxyResult {
  return respond(statusCode, format, { error: message }, page('Error', `<h1>Error</h1>\n<p>${escapeHtml(message)}</p>`));
}

/**
 * A stored count, exact: a JSON number while a double holds it, else its decimal string (the totals are exact
 * beyond 2^53, and a rounded number would show a count that never was).
 */
function countOf(value: { N?: string } | undefined): number | string {
  if (value?.N === undefined) return 0;
  const number = Number(value.N);
  return Number.isSafeInteger(number) ? number : value.N;
}

/**
 * The HTTP handlers of the page-view tags.
 * @example const { route } = createTagsHttpHandlers({ dynamodb: new DynamoDBClient({}) });
 */
export function createTagsHttpHandlers(options: TagsHttpOptions): TagsHttpHandlers {
  const invalid = (reason: string) => new ShardflowError(ErrorCode.InvalidOptions, `${COMPONENT}: ${reason}.`);
  const unknown = Object.keys(options).find((key) => !OPTION_KEYS.includes(key));
  if (unknown !== undefined) throw invalid(`unknown option "${unknown}" (known: ${OPTION_KEYS.join(', ')})`);
  const settings = { ...DEFAULTS, ...options };
  for (const key of ['table', 'counterId'] as const) {
    if (typeof settings[key] !== 'string' || settings[key] === '') throw invalid(`option "${key}" must be a non-empty string`);
  }
  if (!Number.isInteger(settings.maxTagLength) || settings.maxTagLength < 1) {
    throw invalid(`option "maxTagLength" must be an integer >= 1, got ${String(settings.maxTagLength)}`);
  }
  const { dynamodb, table, counterId, maxTagLength } = settings;
  const logger = createLogger({ serviceName: 'tags-http' });

  /** The tag to count, in NFC, or why it is refused. Runs before anything is written: a refused tag counts nothing. */
  function validTag(raw: string): { tag: string } | { refused: string } {
    // A lone surrogate cannot be written as UTF-8 (a crafted event can hold one; a decoded path cannot).
    // (\p{Cs} matches only a surrogate that is not half of a pair.)
    if (/\p{Cs}/u.test(raw)) return { refused: 'The tag is not valid Unicode (it holds a lone surrogate).' };
    const tag = raw.normalize('NFC');
    if (tag.length === 0) return { refused: 'The tag is empty.' };
    if ([...tag].length > maxTagLength) return { refused: `The tag is longer than ${maxTagLength} characters.` };
    if (tag === counterId) return { refused: `"${counterId}" is reserved for the total and cannot be used as a tag.` };
    // Control characters have no business in a tag and make log lines and pages confusing.
    if (/\p{Cc}/u.test(tag)) return { refused: 'The tag contains control characters.' };
    // Invisible characters make two tags look alike; bidi controls make a tag read differently than it is stored.
    if (INVISIBLE.test(tag)) return { refused: 'The tag contains zero-width or bidirectional control characters.' };
    return { tag };
  }

  /** Method and tag checks shared by both routes; a response when the request is refused. */
  function admit(event: TagsHttpEvent, route: Route, format: ResponseFormat): { tag: string } | APIGatewayProxyResult {
    if (event.httpMethod !== 'GET') {
      const refused = problem(405, format, `Only GET is supported on /${route}/{tag}.`);
      return { ...refused, headers: { ...refused.headers, Allow: 'GET' } };
    }
    const raw = rawTag(event, route);
    if (!raw.ok) return problem(400, format, `Bad request: ${raw.reason}.`);
    const valid = validTag(raw.tag);
    return 'tag' in valid ? valid : problem(400, format, valid.refused);
  }

  function failure(format: ResponseFormat, action: string, error: unknown): APIGatewayProxyResult {
    const retryable = isRetryableAwsError(error);
    logger.error(`Could not ${action}`, { error: { name: awsErrorName(error), message: errorMessage(error) }, table });
    return retryable
      ? problem(503, format, 'The page-view table is busy; try again shortly.')
      : problem(500, format, 'The page-view table could not be reached.');
  }

  const visit: TagsHttpHandler = async (event) => {
    const format = responseFormat(event);
    const admitted = admit(event, 'tag', format);
    if (!('tag' in admitted)) return admitted;
    const { tag } = admitted;
    let count: number | string;
    try {
      const { Attributes } = await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { ID: { S: tag } },
          UpdateExpression: 'ADD #count :one',
          ExpressionAttributeNames: { '#count': 'Count' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      count = countOf(Attributes?.Count);
    } catch (error) {
      return failure(format, `count a visit of tag ${JSON.stringify(tag)}`, error);
    }
    const safe = escapeHtml(tag);
    return respond(
      200,
      format,
      { tag, count },
      page(
        `Tag ${tag}`,
        `<h1>Tag ${safe}</h1>\n<p>Tag ${safe} has been viewed ${count} ${count === 1 ? 'time' : 'times'}.</p>\n` +
          `<p><a href="../counts/${escapeHtml(encodeURIComponent(tag))}">Counts</a></p>`,
      ),
    );
  };

  const counts: TagsHttpHandler = async (event) => {
    const format = responseFormat(event);
    const admitted = admit(event, 'counts', format);
    if (!('tag' in admitted)) return admitted;
    const { tag } = admitted;
    let count: number | string;
    let totalViews: number | string;
    try {
      const [tagItem, counterItem] = await Promise.all([
        dynamodb.send(new GetItemCommand({ TableName: table, Key: { ID: { S: tag } }, ProjectionExpression: '#count', ExpressionAttributeNames: { '#count': 'Count' } })),
        dynamodb.send(
          new GetItemCommand({ TableName: table, Key: { ID: { S: counterId } }, ProjectionExpression: 'TotalViews' }),
        ),
      ]);
      count = countOf(tagItem.Item?.Count);
      totalViews = countOf(counterItem.Item?.TotalViews);
    } catch (error) {
      return failure(format, `read the counts of tag ${JSON.stringify(tag)}`, error);
    }
    const safe = escapeHtml(tag);
    return respond(
      200,
      format,
      { tag, count, totalViews },
      page(
        `Counts for ${tag}`,
        `<h1>Counts for ${safe}</h1>\n<p>Tag ${safe}: ${count} ${count === 1 ? 'view' : 'views'}.</p>\n` +
          `<p>All tags: ${totalViews} ${totalViews === 1 ? 'view' : 'views'}.</p>`,
      ),
    );
  };

  const route: TagsHttpHandler = async (event) => {
    const match = ROUTE_PATTERN.exec(event.path ?? '');
    if (match?.[1] === 'tag') return visit(event);
    if (match?.[1] === 'counts') return counts(event);
    return problem(404, responseFormat(event), 'Not found: use /tag/{tag} or /counts/{tag}.');
  };

  return { visit, counts, route };
}
