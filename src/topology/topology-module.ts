import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Topology } from './topology.js';
import type { OutputRecord } from './transport/types.js';

/** What a topology file may export. Only `default` is required. */
export interface TopologyModule {
  /** The topology, or a factory receiving the CLI's settings. */
  default: Topology | ((env: TopologyEnv) => Topology | Promise<Topology>);
  /** Zero-setup mode: traffic fed to the source topic when running on the embedded log. */
  simulate?: (simulation: SimulationContext) => Promise<void>;
}

export interface TopologyEnv {
  /** 'embedded' or 'kafka': some topologies size themselves differently on each. */
  transport: 'embedded' | 'kafka';
  /** The consumer group (application id) when one was given: names per-application topics. */
  groupId?: string;
  /** Extra `--set key=value` settings from the command line. */
  settings: Record<string, string>;
}

export interface SimulationContext {
  topology: Topology;
  /** Writes records to the log (the source topic, usually); resolves when accepted. */
  produce(records: OutputRecord[]): Promise<void>;
  /** How many events to generate (0 = until stopped). */
  events: number;
  /** Target events per second (0 = as fast as the pipeline takes them). */
  rate: number;
  signal: AbortSignal;
  log(line: string): void;
  /**
   * Reports what a reference predictor the simulation runs (a baseline) scores on the measure a
   * step reports as gauge `metric`: the progress line shows the two side by side, and the last
   * line says by how much the topology is ahead or behind. `better`: which way is ahead, 'higher'
   * (default: hit rates) or 'lower' (errors). Absent where nothing shows it.
   */
  reference?(metric: string, reference: string, value: number, better?: 'higher' | 'lower'): void;
}

export async function loadTopologyModule(file: string, env: TopologyEnv): Promise<{ topology: Topology; module: TopologyModule }> {
  const module = (await importTopologyFile(file)) as Partial<TopologyModule>;
  if (!module.default) throw new ConfigError('/topology', `${file} has no default export (a topology or a function returning one)`);
  const topology = typeof module.default === 'function' ? await module.default(env) : module.default;
  if (!topology || typeof topology !== 'object' || !('steps' in topology)) {
    throw new ConfigError('/topology', `${file}: the default export is not a topology built with topology(...).to(...)`);
  }
  return { topology, module: module as TopologyModule };
}

/**
 * Imports a topology file. A `.ts` file under plain Node (the installed `agentrec` command) fails
 * with ERR_UNKNOWN_FILE_EXTENSION; it is then imported through tsx's loader.
 */
async function importTopologyFile(file: string): Promise<unknown> {
  const url = pathToFileURL(resolve(file)).href;
  try {
    return await import(url);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
}
