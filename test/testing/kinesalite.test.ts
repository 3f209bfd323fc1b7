/** The kinesalite fixture, and how every fixture finds its hooks: the runner's globals, given hooks, or an error. */
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { localClientConfig } from '../../src/local/index';
import { useKinesalite, type LifecycleHook } from '../../src/testing';

const kinesis = useKinesalite({ streams: ['checkout-events', 'checkout-audit'] });

describe('useKinesalite', () => {
  it('creates the streams it is given', async () => {
    const { StreamNames } = await kinesis.client().send(new ListStreamsCommand({}));
    expect(StreamNames?.sort()).toEqual(['checkout-audit', 'checkout-events']);
  });

  it('starts and stops on the hooks it is given, as vitest without globals needs', async () => {
    const registered: Record<'before' | 'after', Parameters<LifecycleHook>[0] | undefined> = { before: undefined, after: undefined };
    const fixture = useKinesalite({
      hooks: { beforeAll: (fn) => (registered.before = fn), afterAll: (fn) => (registered.after = fn) },
    });
    expect(() => fixture.endpoint()).toThrow(/useKinesalite: it has not started/);

    await registered.before!();
    const endpoint = fixture.endpoint();
    expect(endpoint).not.toBe(kinesis.endpoint());
    const { StreamNames } = await fixture.client().send(new ListStreamsCommand({}));
    expect(StreamNames).toEqual([]);

    await registered.after!();
    expect(() => fixture.client()).toThrow(/has stopped/);
    const probe = new KinesisClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
    await expect(probe.send(new ListStreamsCommand({}))).rejects.toThrow(/ECONNREFUSED/);
    probe.destroy();
  });

  it('names jest and vitest when there are no hook globals and no hooks', () => {
    const globals = globalThis as { beforeAll?: unknown };
    const { beforeAll } = globals;
    globals.beforeAll = undefined;
    try {
      expect(() => useKinesalite()).toThrow(/no beforeAll and afterAll globals .*jest .*vitest/);
    } finally {
      globals.beforeAll = beforeAll;
    }
  });
});
