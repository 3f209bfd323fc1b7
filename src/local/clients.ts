import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Settings for an AWS SDK v3 client talking to a local emulator. */
export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestHandler: NodeHttpHandler;
  maxAttempts: number;
}

/**
 * Client settings for a loopback emulator. Uses HTTP/1.1 (`NodeHttpHandler`): the Kinesis client defaults to
 * HTTP/2, which kinesalite does not speak. Emulators accept any credentials.
 */
export function localClientConfig(endpoint: string): LocalClientConfig {
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 }),
    maxAttempts: 3,
  };
}
