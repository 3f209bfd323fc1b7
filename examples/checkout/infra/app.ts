/**
 * The checkout app on AWS, through shardflow/cdk: the function, its mappings on the existing checkout-events stream
 * and Carts table stream (by ARN), the tables it owns, alarms and its dashboard. `npm run synth` writes cdk.out
 * offline; deploy it with the aws-cdk CLI (`npx aws-cdk deploy --app cdk.out`).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { join } from 'node:path';
import { ShardflowApp } from 'shardflow/cdk';
import app from '../src/app';
import { CARTS, CHECKOUT_EVENTS } from '../src/tables';

const account = process.env.CDK_DEFAULT_ACCOUNT ?? '111122223333';
const region = process.env.CDK_DEFAULT_REGION ?? 'eu-west-1';
/** The sources exist already (another team's stream, the shop's table): they are referenced, never created here. */
const checkoutEventsArn = process.env.CHECKOUT_EVENTS_ARN ?? `arn:aws:kinesis:${region}:${account}:stream/${CHECKOUT_EVENTS}`;
const cartsStreamArn = process.env.CARTS_STREAM_ARN ?? `arn:aws:dynamodb:${region}:${account}:table/${CARTS}/stream/2026-01-01T00:00:00.000`;

const cdkApp = new App({ outdir: join(__dirname, '..', 'cdk.out') });
const stack = new Stack(cdkApp, 'Checkout', { env: { account, region } });
new ShardflowApp(stack, 'Checkout', {
  app,
  entry: join(__dirname, '..', 'src', 'lambda.ts'),
  handler: 'handler',
  sources: { kinesisStreams: { [CHECKOUT_EVENTS]: checkoutEventsArn }, tables: { [CARTS]: cartsStreamArn } },
  alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
});
cdkApp.synth();
