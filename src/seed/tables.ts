/** The seed systems' tables and streams, with the names the seeds use. */
import type { TableDefinition } from '../index';

export const GAME_SCORE_RECORDS = 'GameScoreRecords';
export const GAME_SCORES_BY_USER = 'GameScoresByUser';
/** Kinesis stream of JSON score records (`{"Username": ..., "Score": ...}`), our addition to seed 001. */
export const GAME_SCORE_EVENTS = 'GameScoreEvents';
export const PAGE_VIEWS = 'PageViews';
/** The PageViews item holding TotalViews. */
export const COUNTER_ID = 'COUNTER';
export const ORDERS = 'Orders';
export const LAB_STREAM = 'Lab-Stream';

/**
 * Score records, key `RecordID` (N). The seed streamed NEW_IMAGE, with which only INSERTs can be summed; MODIFY
 * and REMOVE need the old image, so this deployment streams NEW_AND_OLD_IMAGES.
 */
export const gameScoreRecordsTable: TableDefinition = {
  TableName: GAME_SCORE_RECORDS,
  KeySchema: [{ AttributeName: 'RecordID', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'RecordID', AttributeType: 'N' }],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
};

/** Per-user totals, key `Username` (S), attribute `Score`. */
export const gameScoresByUserTable: TableDefinition = {
  TableName: GAME_SCORES_BY_USER,
  KeySchema: [{ AttributeName: 'Username', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'Username', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
};

/** Tag items (`ID` = tag, `Count`) and the COUNTER item (`TotalViews`), streamed with both images. */
export const pageViewsTable: TableDefinition = {
  TableName: PAGE_VIEWS,
  KeySchema: [{ AttributeName: 'ID', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'ID', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
};

/** Orders, `Id` (N) hash and `Amount` (N) range, streaming keys only (seed 002). */
export const ordersTable: TableDefinition = {
  TableName: ORDERS,
  KeySchema: [
    { AttributeName: 'Id', KeyType: 'HASH' },
    { AttributeName: 'Amount', KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [
    { AttributeName: 'Id', AttributeType: 'N' },
    { AttributeName: 'Amount', AttributeType: 'N' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
};
