/** `FileFaultSink`: faults as JSON lines in a local file, for development. */
import { randomUUID } from 'node:crypto';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { ErrorCode, errorMessage, ShardflowError } from '../runtime/errors';
import { jsonText } from '../runtime/json-text';
import { checkName, resolveOptions } from '../runtime/options';
import type { Fault } from '../runtime/types';
import { compareStored, faultIdOf, type DeleteFaultOptions, type FaultStore, type ListFaultsOptions, type StoredFault } from './fault-store';

export interface FileFaultSinkOptions {
  /** The JSONL file; created on the first capture. */
  readonly path: string;
  /**
   * Name in logs and errors.
   * @default 'file-faults'
   */
  readonly name?: string;
}

const COMPONENT = 'FileFaultSink';

const DEFAULTS = { name: 'file-faults' } satisfies Omit<FileFaultSinkOptions, 'path'>;

/** Faults as JSON lines in a local file, for development. A later line with the same `faultId` replaces earlier ones. */
export class FileFaultSink implements FaultStore {
  readonly name: string;
  readonly path: string;

  constructor(options: FileFaultSinkOptions) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['path']);
    checkName(COMPONENT, 'path', settings.path);
    checkName(COMPONENT, 'name', settings.name);
    this.path = settings.path;
    this.name = settings.name;
  }

  async capture(faults: readonly Fault[]): Promise<void> {
    if (faults.length === 0) return;
    // Written without recursion: a record may nest deeper than JSON.stringify can go.
    const lines = faults.map((fault) => jsonText({ ...fault, faultId: faultIdOf(fault), captureId: randomUUID() }));
    try {
      await appendFile(this.path, `${lines.join('\n')}\n`, 'utf8');
    } catch (error) {
      throw new ShardflowError(
        ErrorCode.FaultCaptureFailed,
        `Fault sink ${this.name} could not append records ${faults.map((fault) => fault.recordId).join(', ')} ` +
          `to ${this.path} (${errorMessage(error)}).`,
        { cause: error },
      );
    }
  }

  async listFaults(options: ListFaultsOptions = {}): Promise<StoredFault[]> {
    const faults = [...(await this.load()).values()]
      .filter((fault) => options.streamArn === undefined || fault.provenance.streamArn === options.streamArn)
      .sort(compareStored);
    return options.limit === undefined ? faults : faults.slice(0, options.limit);
  }

  async deleteFault(faultId: string, options: DeleteFaultOptions = {}): Promise<boolean> {
    const faults = await this.load();
    const fault = faults.get(faultId);
    if (fault === undefined || (options.captureId !== undefined && fault.captureId !== options.captureId)) return false;
    faults.delete(faultId);
    const text = [...faults.values()].map((kept) => `${jsonText(kept)}\n`).join('');
    // Write aside and rename, so a crash leaves the old file or the new one, never half of one.
    const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, this.path);
    return true;
  }

  private async load(): Promise<Map<string, StoredFault>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return new Map();
      throw error;
    }
    const faults = new Map<string, StoredFault>();
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let fault: StoredFault;
      try {
        fault = JSON.parse(line) as StoredFault;
      } catch (error) {
        throw new ShardflowError(
          ErrorCode.InvalidJson,
          `Line ${index + 1} of fault file ${this.path} is not JSON (${errorMessage(error)}); fix or remove it.`,
        );
      }
      faults.set(fault.faultId, fault);
    });
    return faults;
  }
}
