/** The checkout app's Lambda entry: the constructs' `handler` names these exports. */
import { lambdaHandler, lambdaHttpHandler } from '../../../src';
import { checkoutApp } from './app';

export const checkoutHandler = lambdaHandler(checkoutApp);
export const checkoutHttpHandler = lambdaHttpHandler(checkoutApp);
