/**
 * Serves an API Gateway proxy handler (REST API / payload format 1.0) on a loopback port: each HTTP request
 * becomes the event API Gateway would send, and the handler's result becomes the HTTP response.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { HttpHandler } from '../app/types';
import { errorMessage } from '../runtime/errors';
import { LOCAL_ACCOUNT_ID } from './lambda-context';


export interface HttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** The one resource served: `/{proxy+}`, whose `proxy` parameter is the decoded path after the first slash. */
const PROXY_RESOURCE = '/{proxy+}';

function proxyParameters(path: string): Record<string, string> | null {
  const tail = path.slice(1);
  if (tail === '') return null;
  try {
    return { proxy: decodeURIComponent(tail) };
  } catch {
    return { proxy: tail };
  }
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

function proxyEvent(request: IncomingMessage, url: URL, body: string | null): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = Date.now();
  return {
    body,
    headers,
    multiValueHeaders,
    httpMethod: request.method ?? 'GET',
    isBase64Encoded: false,
    path: url.pathname,
    pathParameters: proxyParameters(url.pathname),
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    stageVariables: null,
    resource: PROXY_RESOURCE,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: PROXY_RESOURCE,
    },
  };
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) response.setHeader(name, values.map(String));
  response.statusCode = result.statusCode;
  response.end(result.isBase64Encoded === true ? Buffer.from(result.body, 'base64') : result.body);
}

/** Starts a loopback HTTP server that hands every request to `handler`, as a `/{proxy+}` resource would. */
export async function serveHttpHandler(handler: HttpHandler, options: { readonly port?: number } = {}): Promise<HttpServer> {
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        const body = await readBody(request);
        send(response, await handler(proxyEvent(request, url, body)));
      } catch (error) {
        // API Gateway answers a failed integration with 502.
        send(response, { statusCode: 502, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${errorMessage(error)}\n` });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
