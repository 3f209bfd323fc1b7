/**
 * What the app's function may do to the tables its default sinks write: exactly the calls those sinks make, each
 * list with the reason it holds what it holds.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';

export interface TableAccess {
  readonly actions: readonly string[];
  /** IAM conditions that narrow the actions further. */
  readonly conditions?: Readonly<Record<string, Record<string, unknown>>>;
}

/** IAM checks each action inside TransactWriteItems as its plain call; this keeps them inside transactions. */
const IN_TRANSACTIONS = { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } };

export const SinkTableAccess = {
  /** `DynamoDBSink` applies effects as `Update ... ADD` actions of its transactions. */
  Output: { actions: ['dynamodb:UpdateItem'], conditions: IN_TRANSACTIONS },
  /** `DynamoDBSink` puts each record's marker, on the condition it does not exist, in the same transaction. */
  Marker: { actions: ['dynamodb:PutItem'], conditions: IN_TRANSACTIONS },
  /**
   * In checkpoint mode it also advances the shard's checkpoint, on the condition it is where the sink expects, with
   * an `Update` in the same transaction (and puts markers for redriven faults).
   */
  Checkpoint: { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], conditions: IN_TRANSACTIONS },
  /**
   * `DynamoDBFaultSink` stores a fault as several items (large records in chunks) and writes them in BatchWriteItem
   * requests of up to 25 puts; it never deletes (IAM cannot tell a batch's puts from deletes, the code can).
   */
  Fault: { actions: ['dynamodb:BatchWriteItem'] },
} as const satisfies Record<string, TableAccess>;

/** Grants `access` on `table` (and on its customer-managed key, if it has one). */
export function grantTableAccess(grantee: iam.IGrantable, table: dynamodb.ITable, access: TableAccess): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...access.actions], resources: [table.tableArn], conditions: access.conditions }),
  );
  table.encryptionKey?.grantEncryptDecrypt(grantee);
}
