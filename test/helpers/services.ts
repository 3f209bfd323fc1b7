/**
 * Real local services for integration tests, started per test file and stopped by the returned `stop`.
 * Usage: `const ddb = useDynamoDBLocal();` at the top of a describe block, then `ddb.endpoint()` in tests.
 */
import { startDynamoDBLocal, startKinesalite, type LocalService } from '../../src/local/services';

function useService(start: () => Promise<LocalService>): { endpoint(): string } {
  let service: LocalService | undefined;
  beforeAll(async () => {
    service = await start();
  }, 90_000);
  afterAll(async () => {
    await service?.stop();
  });
  return {
    endpoint() {
      if (service === undefined) throw new Error('The local service has not started; call endpoint() inside a test.');
      return service.endpoint;
    },
  };
}

export const useDynamoDBLocal = () => useService(() => startDynamoDBLocal());
export const useKinesalite = () => useService(() => startKinesalite());
