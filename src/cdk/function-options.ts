/**
 * The Lambda function settings both shardflow constructs take, and the function they make from them: the app's
 * entry bundled locally by esbuild (no Docker), a Node.js 22+ runtime, its own log group and a role that may write
 * only to that log group until the construct grants more.
 */
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { optionsError } from '../runtime/options';

/** Settings of a function a shardflow construct makes. */
export interface FunctionOptions {
  /**
   * The Lambda entry file (TypeScript or JavaScript), bundled with esbuild on this machine.
   * @example 'src/lambda.ts' // with `export const handler = lambdaHandler(app);`
   */
  readonly entry: string;
  /**
   * The export of `entry` that Lambda calls. Named explicitly: it is never derived from the app's name.
   * @example 'handler'
   */
  readonly handler: string;
  /**
   * Node.js 22 or later.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Memory in MB; Lambda gives CPU in proportion.
   * @default 512 for a stream function, 256 for an HTTP function
   */
  readonly memorySize?: number;
  /**
   * @default Duration.seconds(60) for a stream function, Duration.seconds(10) for an HTTP function
   */
  readonly timeout?: Duration;
  /**
   * Concurrent executions reserved for (and capping) the function.
   * @default no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * More environment variables. The construct's own (`SHARDFLOW_*`) cannot be set here.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * esbuild settings, over the construct's: local bundling only, the AWS SDK bundled (the version the app was
   * tested with, not the runtime's), minified, esbuild's warnings shown. Names are not kept: esbuild keeps them by
   * redefining every class's `name`, which takes V8 off its fast path for `new` (shardflow's batch loop ran 3.4x
   * slower on Node 22 and 1.6x on Node 24 with `keepNames`; bench/README.md). Error names survive without it: the
   * SDK's, Node's and shardflow's errors set `name` themselves.
   * @default { forceDockerBundling: false, bundleAwsSDK: true, minify: true, keepNames: false, logLevel: nodejs.LogLevel.WARNING }
   */
  readonly bundling?: nodejs.BundlingOptions;
  /**
   * The lock file that marks the project root, for esbuild.
   * @default the first package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lockb found upwards from the working directory
   */
  readonly depsLockFilePath?: string;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The oldest Node.js major the constructs deploy: Node 20 is deprecated on Lambda. */
const MIN_NODE_MAJOR = 22;

/** A JavaScript identifier: what Lambda's `file.export` handler string can name. */
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/** Environment variables a construct sets itself; a user's `environment` may not set them. */
export const RESERVED_ENVIRONMENT_PREFIX = 'SHARDFLOW_';

function checkRuntime(component: string, runtime: lambda.Runtime): void {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (major === undefined || Number(major) < MIN_NODE_MAJOR) {
    throw optionsError(component, `option "runtime" must be Node.js ${MIN_NODE_MAJOR} or later, got ${runtime.name}`);
  }
}

/** What a construct adds to the user's function options. */
export interface FunctionDefaults {
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
}

/** A function made from `options`, with its log group and a role that can write to it and nothing else yet. */
export function shardflowFunction(scope: Construct, id: string, component: string, options: FunctionOptions, defaults: FunctionDefaults): nodejs.NodejsFunction {
  if (!EXPORT_NAME.test(options.handler)) {
    throw optionsError(component, `option "handler" must be the name of an export of the entry (e.g. "handler"), got ${JSON.stringify(options.handler)}`);
  }
  const runtime = options.runtime ?? lambda.Runtime.NODEJS_24_X;
  checkRuntime(component, runtime);
  const reserved = Object.keys(options.environment ?? {}).filter((name) => name.startsWith(RESERVED_ENVIRONMENT_PREFIX));
  if (reserved.length > 0) {
    throw optionsError(component, `option "environment" sets ${reserved.join(', ')}, which the construct sets itself`);
  }
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: options.logRetention ?? logs.RetentionDays.ONE_MONTH });
  // An explicit role instead of AWSLambdaBasicExecutionRole, whose log permissions cover every log group.
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  return new nodejs.NodejsFunction(scope, id, {
    entry: options.entry,
    handler: options.handler,
    runtime,
    memorySize: options.memorySize ?? defaults.memorySize,
    timeout: options.timeout ?? defaults.timeout,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    environment: { ...options.environment, ...defaults.environment },
    description: defaults.description,
    bundling: { forceDockerBundling: false, bundleAwsSDK: true, minify: true, keepNames: false, logLevel: nodejs.LogLevel.WARNING, ...options.bundling },
    depsLockFilePath: options.depsLockFilePath,
    logGroup,
    role,
  });
}
