/**
 * Loads what the CLI is pointed at: an app by built-in name or from a module (`path` or `path#export`), or a bare
 * Lambda handler (`path#export`). TypeScript modules load without a build step through jiti, which transpiles them
 * on the fly and resolves their imports (shardflow included) from where they are, like Node does.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createJiti } from 'jiti';
import { checkAppDefinition } from '../app/definition';
import type { AppDefinition } from '../app/types';
import { ErrorCode, ShardflowError, errorMessage } from '../runtime/errors';
import type { StreamHandler } from '../runtime/types';
import { BUILTIN_APPS, BUILTIN_APP_NAMES } from './builtin-apps';

function usage(message: string): ShardflowError {
  return new ShardflowError(ErrorCode.InvalidOptions, message);
}

/** `path#export` into its parts; the export is undefined when the reference has no `#`. */
function splitReference(reference: string): { path: string; exportName: string | undefined } {
  const hash = reference.lastIndexOf('#');
  return hash < 0 ? { path: reference, exportName: undefined } : { path: reference.slice(0, hash), exportName: reference.slice(hash + 1) };
}

async function importModule(path: string, what: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file)) throw usage(`${what} module ${path} does not exist (looked for ${file}).`);
  if (statSync(file).isDirectory()) throw usage(`${what} module ${path} is a directory; give the file (app.ts, say).`);
  const jiti = createJiti(__filename, { interopDefault: false });
  try {
    return (await jiti.import(file)) as Record<string, unknown>;
  } catch (error) {
    throw usage(`${what} module ${path} could not be loaded: ${errorMessage(error)}`);
  }
}

function exportOf(module: Record<string, unknown>, path: string, exportName: string | undefined, what: string): unknown {
  const name = exportName ?? 'default';
  if (name in module) return module[name];
  const names = Object.keys(module).filter((key) => key !== '__esModule').sort();
  throw usage(
    `${path} has no export "${name}"${exportName === undefined ? ' (a default export)' : ''} to use as ${what}; ` +
      `its exports are ${names.length === 0 ? 'none' : names.join(', ')}. Name one with ${path}#<export>.`,
  );
}

/** An app by built-in name (`scores`), or a module whose default export (or `#export`) is an app definition. */
export async function loadApp(reference: string): Promise<AppDefinition> {
  const builtin = Object.hasOwn(BUILTIN_APPS, reference) ? BUILTIN_APPS[reference] : undefined;
  if (builtin !== undefined) return builtin();
  const { path, exportName } = splitReference(reference);
  if (!/[./\\]/.test(path)) {
    throw usage(`Unknown app "${reference}": give a built-in app (${BUILTIN_APP_NAMES.join(', ')}) or the path of a module that exports one (./app.ts).`);
  }
  const module = await importModule(path, 'App');
  return checkAppDefinition(exportOf(module, path, exportName, 'an app'), `${reference}`);
}

/** A Lambda handler exported by a module: `path#export`, or the default export. */
export async function loadHandler(reference: string): Promise<StreamHandler> {
  const { path, exportName } = splitReference(reference);
  const module = await importModule(path, 'Handler');
  const handler = exportOf(module, path, exportName, 'a handler');
  if (typeof handler !== 'function') {
    throw usage(`${reference} is not a function, so it is not a Lambda handler (it is ${handler === null ? 'null' : typeof handler}).`);
  }
  return handler as StreamHandler;
}
