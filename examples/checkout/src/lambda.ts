/** The Lambda entry: `handler` is the function's handler export (lambda.handler). */
import { lambdaHandler } from 'shardflow';
import app from './app';

export const handler = lambdaHandler(app);
