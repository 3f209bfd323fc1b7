/**
 * Seed 001 "GameScoreRecords -> GameScoresByUser": per-user score totals, kept exactly once from the
 * GameScoreRecords stream and from JSON score records on the GameScoreEvents Kinesis stream.
 */
import { createScoreAggregator, defineApp } from '../index';
import { GAME_SCORE_EVENTS, GAME_SCORES_BY_USER, GAME_SCORE_RECORDS, gameScoreRecordsTable, gameScoresByUserTable } from './tables';

export const scoresApp = defineApp({
  name: 'scores',
  sources: { tables: [gameScoreRecordsTable], kinesisStreams: [GAME_SCORE_EVENTS] },
  outputs: [gameScoresByUserTable],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: [
    createScoreAggregator({
      sourceTable: GAME_SCORE_RECORDS,
      kinesisStreams: [GAME_SCORE_EVENTS],
      targetTable: GAME_SCORES_BY_USER,
      userAttribute: 'Username',
      scoreAttribute: 'Score',
    }),
  ],
});
