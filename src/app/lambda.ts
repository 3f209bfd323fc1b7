/**
 * Lambda entry points for an app: `export const handler = lambdaHandler(app)` in the function's entry file.
 * The handler is built on the first invocation (so importing the entry costs nothing until then), with the SDK's
 * default DynamoDB client and the tables the deployment names in its environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { optionsError } from '../runtime/options';
import type { StreamHandler } from '../runtime/types';
import type { AppDefinition, AppEnvironment, HttpHandler } from './types';

/** Environment variables the deploy construct sets, naming the tables it created for the app. */
export const LambdaEnvironment = {
  FaultTable: 'SHARDFLOW_FAULT_TABLE',
  MarkerTable: 'SHARDFLOW_MARKER_TABLE',
} as const;

let environment: AppEnvironment | undefined;

function lambdaEnvironment(): AppEnvironment {
  const faultTable = process.env[LambdaEnvironment.FaultTable];
  const markerTable = process.env[LambdaEnvironment.MarkerTable];
  environment ??= {
    dynamodb: new DynamoDBClient({}),
    ...(faultTable !== undefined && faultTable !== '' && { faults: { table: faultTable } }),
    ...(markerTable !== undefined && markerTable !== '' && { markerTable }),
  };
  return environment;
}

/**
 * The app's stream handler for Lambda. Map it with `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
 * @example export const handler = lambdaHandler(app);
 */
export function lambdaHandler(app: AppDefinition): StreamHandler {
  let handler: StreamHandler | undefined;
  return (event, context) => {
    handler ??= app.createHandler(lambdaEnvironment());
    return handler(event, context);
  };
}

/**
 * The app's HTTP routes as one API Gateway proxy handler (payload format 1.0).
 * @example export const httpHandler = lambdaHttpHandler(app);
 */
export function lambdaHttpHandler(app: AppDefinition): HttpHandler {
  const http = app.http;
  if (http === undefined) throw optionsError('lambdaHttpHandler', `app "${app.name}" has no HTTP routes (its definition has no "http")`);
  let handler: HttpHandler | undefined;
  return (event) => {
    handler ??= http(lambdaEnvironment());
    return handler(event);
  };
}
