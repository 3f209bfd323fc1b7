/**
 * The CDK app. Deploy with `npm run bundle && npx cdk deploy --app "npx ts-node --transpile-only infra/app.ts"`
 * (the aws-cdk CLI is not a dependency: install it where you deploy from).
 */
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { join } from 'node:path';
import { seedApps } from '../src/seed';
import { ShardflowStack } from './stack';

const app = new App();
new ShardflowStack(app, 'Shardflow', {
  apps: seedApps,
  code: lambda.Code.fromAsset(join(__dirname, '..', 'dist-lambda')),
});
app.synth();
