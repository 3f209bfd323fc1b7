/**
 * The score aggregator (from seed 001, game scores): keeps each user's total in the target table
 * equal to the sum of the score over the user's score records (table and attribute names are options; the
 * docs below say Username and Score). The seed only ever ADDed the new image's Score, so modifies and
 * removes double-counted; here every change contributes its exact delta:
 * - INSERT adds the new Score to the new image's user;
 * - MODIFY subtracts the old Score from the old image's user and adds the new Score to the new image's user
 *   (one effect when the user is unchanged, two when Username changed);
 * - REMOVE subtracts the old Score, including TTL deletes unless `ttlDeletes` is `'keep'`.
 * MODIFY needs the old image and REMOVE has nothing else, so under the seed's NEW_IMAGE stream they are permanent
 * `IMAGE_NOT_IN_VIEW` faults that say the stream needs NEW_AND_OLD_IMAGES (INSERT still works).
 *
 * An image counts as its Score when it is a valid score record (a non-empty string Username and a Score that is
 * a safe integer) and as 0 otherwise, and each change applies count(new) − count(old). So the totals always equal
 * the sums over the valid records, whatever the history:
 * - a change whose invalid new image replaces nothing counted (an INSERT, or a MODIFY of a record that was
 *   already invalid) is a permanent `ValidationError` naming the record and the reason, so the bad data is
 *   captured as a fault;
 * - a MODIFY that turns a counted record invalid still subtracts the old Score (a fault would leave it counted,
 *   and a later fix-up would then count the record twice) and reports the reason in a WARN `LogEffect`.
 * An invalid old image counted 0 because the change that wrote it was rejected by the same rule.
 */
import { ValidationError } from '../runtime/errors';
import {
  RecordKind,
  RecordSource,
  type DynamoDBStreamRecord,
  type KinesisStreamRecord,
  type StreamRecord,
  provenanceOf,
} from '../runtime/model';
import type { AddEffect, Effect, Processor } from '../runtime/types';
import { checkName, checkNames, checkOneOf, optionsError, resolveOptions } from '../runtime/options';
import { deltaEffects, integerAmount } from './common';
import { exactInteger, issueReason, itemSchema, keyString } from './item-schema';

/** What a TTL delete of a score record does to the user's total. */
export const TtlDeletePolicy = {
  /** The record is gone, so its Score leaves the sum like any other delete. */
  Subtract: 'subtract',
  /** Expiry archives a record but keeps it in the lifetime total. */
  Keep: 'keep',
} as const;
export type TtlDeletePolicy = (typeof TtlDeletePolicy)[keyof typeof TtlDeletePolicy];

export interface ScoreAggregatorOptions {
  /**
   * The processor's name, used in faults and metrics.
   * @default 'score-aggregator'
   */
  readonly name?: string;
  /**
   * The table of score records whose stream is consumed; each record carries `userAttribute` and `scoreAttribute`.
   * Give it, `kinesisStreams`, or both.
   * @example 'ScoreRecords'
   */
  readonly sourceTable?: string;
  /**
   * Kinesis streams whose records are JSON objects carrying `userAttribute` and `scoreAttribute`; each adds its score.
   * @default []
   * @example ['score-events']
   */
  readonly kinesisStreams?: readonly string[];
  /**
   * The table of per-user totals: key `userAttribute` (S), the total in `scoreAttribute` (N).
   * @example 'ScoresByUser'
   */
  readonly targetTable: string;
  /**
   * The attribute naming the user, in the score records and as the totals' key.
   * @example 'Username'
   */
  readonly userAttribute: string;
  /**
   * The attribute holding a score in the records, and the total in the target table.
   * @example 'Score'
   */
  readonly scoreAttribute: string;
  /**
   * What a TTL delete of a score record does: `'subtract'` keeps the total equal to the sum over the records
   * that exist; `'keep'` ignores expiry so totals are lifetime totals.
   * @default 'subtract'
   */
  readonly ttlDeletes?: TtlDeletePolicy;
}

const DEFAULTS = {
  name: 'score-aggregator',
  sourceTable: undefined as string | undefined,
  kinesisStreams: [] as readonly string[],
  ttlDeletes: TtlDeletePolicy.Subtract as TtlDeletePolicy,
} satisfies Partial<ScoreAggregatorOptions>;

const COMPONENT = 'createScoreAggregator';

interface ScoreEntry {
  readonly username: string;
  readonly score: bigint;
}

/**
 * A processor of score-record changes (and Kinesis score records) into `AddEffect`s on the per-user totals, and
 * a WARN `LogEffect` when a change makes a counted record invalid.
 * @example
 * createScoreAggregator({
 *   sourceTable: 'ScoreRecords', targetTable: 'ScoresByUser', userAttribute: 'Username', scoreAttribute: 'Score',
 * })
 */
export function createScoreAggregator(options: ScoreAggregatorOptions): Processor<Effect> {
  const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['targetTable', 'userAttribute', 'scoreAttribute']);
  checkName(COMPONENT, 'name', settings.name);
  if (settings.sourceTable !== undefined) checkName(COMPONENT, 'sourceTable', settings.sourceTable);
  checkNames(COMPONENT, 'kinesisStreams', settings.kinesisStreams);
  if (settings.sourceTable === undefined && settings.kinesisStreams.length === 0) {
    throw optionsError(COMPONENT, 'give "sourceTable", "kinesisStreams" or both: the processor reads no records');
  }
  checkName(COMPONENT, 'targetTable', settings.targetTable);
  checkName(COMPONENT, 'userAttribute', settings.userAttribute);
  checkName(COMPONENT, 'scoreAttribute', settings.scoreAttribute);
  checkOneOf(COMPONENT, 'ttlDeletes', settings.ttlDeletes, TtlDeletePolicy);
  const { name, sourceTable, targetTable, userAttribute, scoreAttribute, ttlDeletes } = settings;
  const kinesisStreams: readonly string[] = [...settings.kinesisStreams];

  // A score record, in an image or a Kinesis JSON payload: what the aggregator reads, and all it checks.
  const scoreRecord = itemSchema<ScoreEntry>({
    username: { attribute: userAttribute, read: keyString },
    score: { attribute: scoreAttribute, read: exactInteger },
  });

  const effect = (record: StreamRecord, username: string, delta: bigint): AddEffect => ({
    type: 'add',
    provenance: provenanceOf(record),
    table: targetTable,
    key: { [userAttribute]: username },
    add: { [scoreAttribute]: integerAmount(delta) },
  });

  function fromKinesis(record: KinesisStreamRecord): AddEffect[] {
    const entry = scoreRecord['~standard'].validate(record.payload.json());
    if (entry.issues) {
      throw new ValidationError(
        `Record ${record.recordId} from Kinesis stream ${record.streamName} cannot be added to ${targetTable}: ${issueReason(entry.issues, 'JSON payload')}.`,
        { recordId: record.recordId },
      );
    }
    return [effect(record, entry.value.username, entry.value.score)];
  }

  function fromChange(record: DynamoDBStreamRecord): Effect[] {
    if (record.kind === RecordKind.Remove && record.isTtlDelete && ttlDeletes === TtlDeletePolicy.Keep) return [];
    return deltaEffects<ScoreEntry>(record, {
      processor: `the ${name} processor`,
      target: targetTable,
      counted: 'score record',
      schema: scoreRecord,
      adds(before, after) {
        // Per-user deltas in first-seen order: the old user first, so a Username change subtracts before it adds.
        const deltas = new Map<string, bigint>();
        const addDelta = (username: string, amount: bigint): void => {
          deltas.set(username, (deltas.get(username) ?? 0n) + amount);
        };
        if (before !== undefined) addDelta(before.username, -before.score);
        if (after !== undefined) addDelta(after.username, after.score);
        const effects: Effect[] = [];
        for (const [username, delta] of deltas) {
          // An INSERT of Score 0 still creates the user's total, as the seed's ADD did; other zero deltas change nothing.
          if (delta !== 0n || record.kind === RecordKind.Insert) effects.push(effect(record, username, delta));
        }
        return effects;
      },
      subtracted: (before) => `its old ${scoreAttribute} ${before.score} was subtracted from ${before.username}'s total`,
    });
  }

  return {
    name,
    select: {
      sources: [...(sourceTable === undefined ? [] : [RecordSource.DynamoDB]), ...(kinesisStreams.length > 0 ? [RecordSource.Kinesis] : [])],
      streams: [...(sourceTable === undefined ? [] : [sourceTable]), ...kinesisStreams],
      // With both sources, sources and streams alone would also admit a table named like a Kinesis stream, or the reverse.
      ...(kinesisStreams.length === 0 || sourceTable === undefined
        ? {}
        : {
            where: (record: StreamRecord) =>
              record.source === RecordSource.DynamoDB
                ? record.tableName === sourceTable
                : kinesisStreams.includes(record.streamName),
          }),
    },
    process(record) {
      return record.source === RecordSource.Kinesis ? fromKinesis(record) : fromChange(record);
    },
  };
}
