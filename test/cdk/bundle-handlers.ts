/**
 * From a synthesized cloud assembly to what Lambda would run: each function's handler string and the bundle its
 * code asset points at, and what a bundle exports when plain Node loads it outside the repository (so nothing
 * resolves from the repository's node_modules).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DeployedHandler {
  readonly stack: string;
  readonly logicalId: string;
  /** `file.export`, as the template has it. */
  readonly handler: string;
  /** The asset folder the function's code is zipped from. */
  readonly bundle: string;
}

interface Manifest {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string; file?: string } }>;
}

/** Every Lambda function of every stack in the assembly at `outdir`. */
export function deployedHandlers(outdir: string): DeployedHandler[] {
  const read = (file: string): unknown => JSON.parse(readFileSync(join(outdir, file), 'utf8'));
  const manifest = read('manifest.json') as Manifest;
  const assetPaths = new Map<string, string>();
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'cdk:asset-manifest') continue;
    const assets = read(artifact.properties?.file as string) as { files: Record<string, { source: { path: string } }> };
    for (const [hash, asset] of Object.entries(assets.files)) assetPaths.set(`${hash}.zip`, join(outdir, asset.source.path));
  }
  const handlers: DeployedHandler[] = [];
  for (const [stack, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = read(artifact.properties?.templateFile as string) as { Resources: Record<string, { Type: string; Properties: { Handler: string; Code: { S3Key: string } } }> };
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const bundle = assetPaths.get(resource.Properties.Code.S3Key);
      if (bundle === undefined) throw new Error(`${stack}/${logicalId}: no asset ${resource.Properties.Code.S3Key} in the assembly.`);
      handlers.push({ stack, logicalId, handler: resource.Properties.Handler, bundle });
    }
  }
  return handlers;
}

/** The names of the functions `file` (e.g. `index`) of `bundle` exports, loaded by plain Node from a copy in a temp folder. */
export function exportedFunctions(bundle: string, file: string): string[] {
  const copy = mkdtempSync(join(tmpdir(), 'shardflow-bundle-'));
  try {
    cpSync(bundle, copy, { recursive: true });
    const script = `const m = require(${JSON.stringify(join(copy, file))}); console.log(JSON.stringify(Object.keys(m).filter((k) => typeof m[k] === 'function')));`;
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as string[];
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
