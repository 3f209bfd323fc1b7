/**
 * The seed apps' Lambda entry points, bundled by esbuild when infra/ synthesizes; each function's handler names its
 * export.
 * Handlers are built on first use, so a function builds only its own app.
 */
import { lambdaHandler, lambdaHttpHandler } from '../index';
import { kinesisLogApp, ordersApp, scoresApp, tagsApp } from './index';

export const scoresHandler = lambdaHandler(scoresApp);
export const tagsHandler = lambdaHandler(tagsApp);
export const ordersHandler = lambdaHandler(ordersApp);
export const kinesisLogHandler = lambdaHandler(kinesisLogApp);
/** `GET /tag/{tag}` and `GET /counts/{tag}` behind one function (routes on the path). */
export const tagsHttpHandler = lambdaHttpHandler(tagsApp);
