/**
 * Seed 001 "GameScoreRecords -> GameScoresByUser": per-user score totals, kept exactly once from the
 * GameScoreRecords stream and from JSON score records on the GameScoreEvents Kinesis stream.
 */
import { createScoreAggregator } from '../processors/scores';
import { buildHandler, faultTable, markerTable } from './shared';
import { GAME_SCORE_EVENTS, GAME_SCORES_BY_USER, GAME_SCORE_RECORDS, gameScoreRecordsTable, gameScoresByUserTable } from './tables';
import { AppName, type AppDefinition } from './types';

export const scoresApp: AppDefinition = {
  name: AppName.Scores,
  description:
    `Keeps ${GAME_SCORES_BY_USER}.Score equal to the sum of Score over each user's ${GAME_SCORE_RECORDS} ` +
    `(inserts, modifies, removes) plus the score records on Kinesis stream ${GAME_SCORE_EVENTS}.`,
  tables: [gameScoreRecordsTable, gameScoresByUserTable, markerTable, faultTable],
  kinesisStreams: [GAME_SCORE_EVENTS],
  outputTables: [GAME_SCORES_BY_USER],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  createHandler: (environment) =>
    buildHandler({
      app: AppName.Scores,
      environment,
      processors: [
        createScoreAggregator({
          sourceTable: GAME_SCORE_RECORDS,
          targetTable: GAME_SCORES_BY_USER,
          kinesisStreams: [GAME_SCORE_EVENTS],
        }),
      ],
      outputTables: [GAME_SCORES_BY_USER],
    }),
};
