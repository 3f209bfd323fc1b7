/**
 * The seed apps, each deployed through `ShardflowApp` (and the tags routes through `ShardflowHttpApi`) on the
 * sources of `SeedSourcesStack`, with one alarm topic for all of them.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import type { AppDefinition } from '../src/index';
import { ShardflowApp, ShardflowHttpApi } from '../src/cdk';
import { kinesisLogApp, ordersApp, scoresApp, tagsApp } from '../src/seed';
import { PAGE_VIEWS } from '../src/seed/tables';
import type { SeedSourcesStack } from './seed-sources-stack';

/** The seed apps' Lambda entry file; each function names its export. */
export const SEED_ENTRY = join(__dirname, '..', 'src', 'seed', 'lambda.ts');

/** Each seed app with the export of `SEED_ENTRY` that serves it. */
const SEED_HANDLERS: readonly { readonly app: AppDefinition; readonly handler: string }[] = [
  { app: scoresApp, handler: 'scoresHandler' },
  { app: tagsApp, handler: 'tagsHandler' },
  { app: ordersApp, handler: 'ordersHandler' },
  { app: kinesisLogApp, handler: 'kinesisLogHandler' },
];

export interface SeedAppsStackProps extends StackProps {
  readonly sources: SeedSourcesStack;
}

export class SeedAppsStack extends Stack {
  readonly apps = new Map<string, ShardflowApp>();
  readonly tagsApi: ShardflowHttpApi;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: SeedAppsStackProps) {
    super(scope, id, props);
    // CloudWatch can publish only to topics whose key lets it: the AWS-managed SNS key does not.
    const key = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts the seed apps\' alarm topic' });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });

    const pick = <T>(available: ReadonlyMap<string, T>, names: readonly string[]) => Object.fromEntries(names.map((name) => [name, available.get(name) as T]));
    for (const { app, handler } of SEED_HANDLERS) {
      const deployed = new ShardflowApp(this, `${app.name}App`, {
        app,
        entry: SEED_ENTRY,
        handler,
        sources: {
          tables: pick(props.sources.tables, app.sources.tables.map((table) => table.TableName as string)),
          kinesisStreams: pick(props.sources.kinesisStreams, app.sources.kinesisStreams),
        },
        alarmTopic: this.alarmTopic,
      });
      this.apps.set(app.name, deployed);
      // Where to list (and redrive) the app's faults.
      new CfnOutput(this, `${app.name}FaultTable`, { value: deployed.faultTable.tableName });
    }
    const pageViews = props.sources.tables.get(PAGE_VIEWS);
    if (pageViews === undefined) throw new Error(`The sources stack has no ${PAGE_VIEWS} table.`);
    this.tagsApi = new ShardflowHttpApi(this, 'tagsHttp', {
      app: tagsApp,
      entry: SEED_ENTRY,
      handler: 'tagsHttpHandler',
      // GET /tag/{tag} adds one to the tag's Count; GET /counts/{tag} reads the tag and the COUNTER items.
      tableAccess: [{ table: pageViews, actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'] }],
      alarmTopic: this.alarmTopic,
    });
    new CfnOutput(this, 'TagsUrl', { value: this.tagsApi.url });
  }
}
