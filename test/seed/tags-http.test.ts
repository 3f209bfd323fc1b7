/** The page-view tags HTTP handlers (seed 000) on DynamoDB Local, with API Gateway proxy events. */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { tagsApp } from '../../src/seed';
import { createTagsHttpHandlers, escapeHtml, responseFormat, type TagsHttpEvent } from '../../src/seed/tags-http';
import { ErrorCode } from '../../src/runtime/errors';
import { localClientConfig } from '../../src/local/clients';
import { ensureTables } from '../../src/local/environment';
import { useDynamoDBLocal } from '../../src/testing';

const ddb = useDynamoDBLocal();
let client: DynamoDBClient;

beforeAll(async () => {
  client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
  await ensureTables(client, tagsApp.tables);
});

afterAll(() => client?.destroy());

function request(path: string, options: { method?: string; accept?: string; format?: string; tag?: string } = {}): TagsHttpEvent {
  return {
    httpMethod: options.method ?? 'GET',
    path,
    headers: options.accept === undefined ? {} : { Accept: options.accept },
    queryStringParameters: options.format === undefined ? null : { format: options.format },
    ...(options.tag === undefined ? {} : { pathParameters: { tag: options.tag } }),
  };
}

const json = (response: APIGatewayProxyResult): Record<string, unknown> => {
  expect(response.headers?.['Content-Type']).toBe('application/json; charset=utf-8');
  return JSON.parse(response.body) as Record<string, unknown>;
};

async function storedCount(tag: string): Promise<number | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: 'PageViews', Key: { ID: { S: tag } }, ConsistentRead: true }));
  return Item?.Count?.N === undefined ? undefined : Number(Item.Count.N);
}

describe('GET /tag/{tag}', () => {
  it('adds 1 to the tag item Count on each visit and shows the new count', async () => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client });
    const first = await visit(request('/tag/cats', { tag: 'cats' }));
    expect(first.statusCode).toBe(200);
    expect(first.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    expect(first.body).toContain('Tag cats has been viewed 1 time.');
    const second = await visit(request('/tag/cats', { tag: 'cats', format: 'json' }));
    expect(json(second)).toEqual({ tag: 'cats', count: 2 });
    expect(await storedCount('cats')).toBe(2);
  });

  it('escapes the tag in HTML (the seed put it in raw)', async () => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client });
    const tag = '<script>alert("x")</script>&\'';
    const response = await visit(request(`/tag/${encodeURIComponent(tag)}`));
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<script>');
    expect(response.body).toContain(escapeHtml(tag));
    expect(escapeHtml(tag)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(await storedCount(tag)).toBe(1);
  });

  it.each([
    ['an empty tag', request('/tag/'), undefined, 'The tag is empty.'],
    ['the COUNTER item', request('/tag/COUNTER'), 'COUNTER', '"COUNTER" is reserved'],
    ['a tag over the length limit', request(`/tag/${'x'.repeat(101)}`), 'x'.repeat(101), 'longer than 100 characters'],
    ['a control character', request('/tag/a%00b'), 'a\u0000b', 'control characters'],
    ['a zero-width space', request('/tag/ca%E2%80%8Bts'), 'ca\u200Bts', 'zero-width or bidirectional control characters'],
    ['a zero-width joiner', request('/tag/x', { tag: 'c\u200Dats' }), 'c\u200Dats', 'zero-width or bidirectional control characters'],
    ['a right-to-left override', request('/tag/x', { tag: 'cats\u202Egpj.exe' }), 'cats\u202Egpj.exe', 'zero-width or bidirectional control characters'],
    ['a bidi isolate', request('/tag/x', { tag: '\u2067cats' }), '\u2067cats', 'zero-width or bidirectional control characters'],
    ['a lone surrogate in a crafted event', request('/tag/x', { tag: 'cats\uD800' }), 'cats\uD800', 'not valid Unicode'],
    ['malformed percent-encoding', request('/tag/%E0%A4%A'), undefined, 'not valid percent-encoded UTF-8'],
  ])('refuses %s with 400 and writes nothing', async (_name, event, tag, message) => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client });
    const response = await visit(event);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain(escapeHtml(message));
    if (tag !== undefined) expect(await storedCount(tag)).toBeUndefined();
  });

  it('counts a tag in NFC, whichever way it was composed', async () => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client });
    const composed = 'caf\u00E9';
    const decomposed = 'cafe\u0301';
    expect(json(await visit(request('/tag/x', { tag: composed, format: 'json' })))).toEqual({ tag: composed, count: 1 });
    expect(json(await visit(request(`/tag/${encodeURIComponent(decomposed)}`, { format: 'json' })))).toEqual({ tag: composed, count: 2 });
    expect([await storedCount(composed), await storedCount(decomposed)]).toEqual([2, undefined]);
  });

  it('sends nosniff with every response and a restrictive Content-Security-Policy with HTML', async () => {
    const { visit, route } = createTagsHttpHandlers({ dynamodb: client });
    for (const response of [await visit(request('/tag/headers')), await visit(request('/tag/')), await route(request('/elsewhere'))]) {
      expect(response.headers).toMatchObject({
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      });
    }
    const asJson = await visit(request('/tag/headers', { format: 'json' }));
    expect(asJson.headers?.['X-Content-Type-Options']).toBe('nosniff');
    expect(asJson.headers).not.toHaveProperty('Content-Security-Policy');
  });

  it('accepts a tag at the length limit, counted in characters', async () => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client, maxTagLength: 3 });
    expect((await visit(request('/tag/é🙂a', { tag: 'é🙂a' }))).statusCode).toBe(200);
    expect((await visit(request('/tag/abcd', { tag: 'abcd' }))).statusCode).toBe(400);
  });

  it('allows only GET', async () => {
    const { visit } = createTagsHttpHandlers({ dynamodb: client });
    const response = await visit(request('/tag/cats', { method: 'POST', tag: 'cats' }));
    expect(response.statusCode).toBe(405);
    expect(response.headers?.Allow).toBe('GET');
  });
});

describe('GET /counts/{tag}', () => {
  it("shows the tag's count and TotalViews, as HTML or JSON", async () => {
    await client.send(new PutItemCommand({ TableName: 'PageViews', Item: { ID: { S: 'dogs' }, Count: { N: '4' } } }));
    await client.send(new PutItemCommand({ TableName: 'PageViews', Item: { ID: { S: 'COUNTER' }, TotalViews: { N: '9' } } }));
    const { counts } = createTagsHttpHandlers({ dynamodb: client });
    const html = await counts(request('/counts/dogs'));
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('Tag dogs: 4 views.');
    expect(html.body).toContain('All tags: 9 views.');
    expect(json(await counts(request('/counts/dogs', { accept: 'application/json' })))).toEqual({ tag: 'dogs', count: 4, totalViews: 9 });
    expect(json(await counts(request('/counts/never-seen', { format: 'json' })))).toEqual({ tag: 'never-seen', count: 0, totalViews: 9 });
  });

  it('shows counts beyond a double exactly', async () => {
    await client.send(new PutItemCommand({ TableName: 'PageViews', Item: { ID: { S: 'huge' }, Count: { N: '9007199254740993' } } }));
    const { counts } = createTagsHttpHandlers({ dynamodb: client });
    expect(json(await counts(request('/counts/huge', { format: 'json' })))).toMatchObject({ tag: 'huge', count: '9007199254740993' });
    expect((await counts(request('/counts/huge'))).body).toContain('Tag huge: 9007199254740993 views.');
  });

  it('routes both paths from one handler and answers 404 otherwise', async () => {
    const { route } = createTagsHttpHandlers({ dynamodb: client });
    expect(json(await route(request('/prod/tag/birds', { format: 'json' })))).toEqual({ tag: 'birds', count: 1 });
    expect(json(await route(request('/counts/birds', { format: 'json' })))).toMatchObject({ tag: 'birds', count: 1 });
    expect((await route(request('/elsewhere'))).statusCode).toBe(404);
  });

  it('answers 500 with a generic message when the table is missing', async () => {
    const { counts } = createTagsHttpHandlers({ dynamodb: client, table: 'NoSuchTable' });
    const response = await counts(request('/counts/dogs', { format: 'json' }));
    expect(response.statusCode).toBe(500);
    expect(json(response)).toEqual({ error: 'The page-view table could not be reached.' });
  });
});

describe('content negotiation and options', () => {
  it('picks JSON only when asked, by query or by Accept', () => {
    expect(responseFormat(request('/counts/a'))).toBe('html');
    expect(responseFormat(request('/counts/a', { format: 'JSON' }))).toBe('json');
    expect(responseFormat(request('/counts/a', { format: 'html', accept: 'application/json' }))).toBe('html');
    expect(responseFormat(request('/counts/a', { accept: 'application/json' }))).toBe('json');
    expect(responseFormat(request('/counts/a', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }))).toBe('html');
    expect(responseFormat(request('/counts/a', { accept: 'text/html;q=0.5, application/json' }))).toBe('json');
    expect(responseFormat(request('/counts/a', { accept: 'application/json;q=0' }))).toBe('html');
  });

  it('rejects unknown options', () => {
    expect(() => createTagsHttpHandlers({ dynamodb: client, tableName: 'x' } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions }),
    );
    expect(() => createTagsHttpHandlers({ dynamodb: client, maxTagLength: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
  });
});
