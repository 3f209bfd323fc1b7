/**
 * The Lambda entry points (bundled to dist-lambda/index.js; the CDK stack points each app's function at
 * `index.<camelCaseAppName>Handler`). Handlers are built on first use, so a function builds only its own app.
 * Faults go to the ShardflowFaults table unless SHARDFLOW_FAULT_TABLE names another.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { apps } from './index';
import { FAULT_TABLE } from './shared';
import { createTagsHttpHandlers, type TagsHttpEvent, type TagsHttpHandler } from './tags-http';
import type { AppDefinition, AppEnvironment, StreamHandler } from './types';

let environment: AppEnvironment | undefined;

function lambdaEnvironment(): AppEnvironment {
  environment ??= {
    dynamodb: new DynamoDBClient({}),
    faults: { table: process.env.SHARDFLOW_FAULT_TABLE ?? FAULT_TABLE },
  };
  return environment;
}

function lazy(app: AppDefinition): StreamHandler {
  let handler: StreamHandler | undefined;
  return (event, context) => {
    handler ??= app.createHandler(lambdaEnvironment());
    return handler(event, context);
  };
}

export const scoresHandler = lazy(apps.scores);
export const tagsHandler = lazy(apps.tags);
export const ordersHandler = lazy(apps.orders);
export const kinesisLogHandler = lazy(apps['kinesis-log']);

let tagsHttp: TagsHttpHandler | undefined;

/** `GET /tag/{tag}` and `GET /counts/{tag}` behind one function (routes on the path). */
export const tagsHttpHandler = (event: TagsHttpEvent): Promise<APIGatewayProxyResult> => {
  tagsHttp ??= createTagsHttpHandlers({ dynamodb: lambdaEnvironment().dynamodb }).route;
  return tagsHttp(event);
};
