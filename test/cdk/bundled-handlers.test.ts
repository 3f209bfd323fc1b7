import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardflowHttpApi } from '../../src/cdk';
import { deployedHandlers, exportedFunctions } from './bundle-handlers';
import { CHECKOUT_ENTRY, checkoutStack } from './checkout-stack';
import { checkoutApp } from './checkout/app';

describe('a user app bundled by the constructs', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'shardflow-checkout-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('gives every function a handler that its esbuild bundle exports', () => {
    const { app, stack } = checkoutStack({}, { bundle: true, outdir });
    new ShardflowHttpApi(stack, 'CheckoutHttp', { app: checkoutApp, entry: CHECKOUT_ENTRY, handler: 'checkoutHttpHandler' });
    app.synth();
    const handlers = deployedHandlers(outdir);
    expect(handlers.map(({ handler }) => handler).sort()).toEqual(['index.checkoutHandler', 'index.checkoutHttpHandler']);
    for (const { handler, bundle } of handlers) {
      const [file, name] = handler.split('.') as [string, string];
      expect(exportedFunctions(bundle, file)).toContain(name);
    }
  });
});
