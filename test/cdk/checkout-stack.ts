/**
 * The checkout app deployed through `ShardflowApp` as a user would: its sources imported by ARN, an alarm topic of
 * their own. Bundling is skipped unless asked for (the handler-export test bundles for real).
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { join } from 'node:path';
import { ShardflowApp, type ShardflowAppProps } from '../../src/cdk';
import { CARTS, CHECKOUT_EVENTS, checkoutApp } from './checkout/app';

export const CHECKOUT_ENTRY = join(__dirname, 'checkout', 'lambda.ts');
export const CARTS_STREAM_ARN = `arn:aws:dynamodb:eu-west-1:111122223333:table/${CARTS}/stream/2026-01-01T00:00:00.000`;
export const CHECKOUT_EVENTS_ARN = `arn:aws:kinesis:eu-west-1:111122223333:stream/${CHECKOUT_EVENTS}`;

/** Skips esbuild: the stack's templates are all these tests read. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export interface CheckoutStack {
  readonly app: App;
  readonly stack: Stack;
  readonly deployed: ShardflowApp;
  readonly topic: sns.Topic;
}

/** Overrides of the construct's props, or a function that makes them in the stack (for resources they refer to). */
export type CheckoutOverrides = Partial<ShardflowAppProps> | ((stack: Stack) => Partial<ShardflowAppProps>);

export function checkoutStack(overrides: CheckoutOverrides = {}, options: { bundle?: boolean; outdir?: string } = {}): CheckoutStack {
  const app = new App({ context: options.bundle === true ? {} : NO_BUNDLING, ...(options.outdir !== undefined && { outdir: options.outdir }) });
  const stack = new Stack(app, 'Checkout', { env: { account: '111122223333', region: 'eu-west-1' } } satisfies StackProps);
  const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
  const deployed = new ShardflowApp(stack, 'Checkout', {
    app: checkoutApp,
    entry: CHECKOUT_ENTRY,
    handler: 'checkoutHandler',
    sources: { tables: { [CARTS]: CARTS_STREAM_ARN }, kinesisStreams: { [CHECKOUT_EVENTS]: CHECKOUT_EVENTS_ARN } },
    alarmTopic: topic,
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return { app, stack, deployed, topic };
}
