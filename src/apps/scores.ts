/**
 * Seed 001 "GameScoreRecords -> GameScoresByUser": per-user score totals, kept exactly once from the
 * GameScoreRecords stream and from JSON score records on the GameScoreEvents Kinesis stream.
 */
import { createScoreAggregator } from '../processors/scores';
import { defineApp, faultTable, markerTable } from './shared';
import { GAME_SCORE_EVENTS, GAME_SCORES_BY_USER, GAME_SCORE_RECORDS, gameScoreRecordsTable, gameScoresByUserTable } from './tables';
import { AppName } from './types';

export const scoresApp = defineApp({
  name: AppName.Scores,
  tables: [gameScoreRecordsTable, gameScoresByUserTable, markerTable, faultTable],
  kinesisStreams: [GAME_SCORE_EVENTS],
  outputTables: [GAME_SCORES_BY_USER],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: () => [
    createScoreAggregator({
      sourceTable: GAME_SCORE_RECORDS,
      targetTable: GAME_SCORES_BY_USER,
      kinesisStreams: [GAME_SCORE_EVENTS],
    }),
  ],
});
