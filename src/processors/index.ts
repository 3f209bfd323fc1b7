export { createRecordLogger, PayloadEncoding, type RecordLoggerOptions } from './logger';
export { createScoreAggregator, TtlDeletePolicy, type ScoreAggregatorOptions } from './scores';
export { createTagTotal, type TagTotalOptions } from './tags';
export { REDACTED } from './json';
