import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What run-agent-recommender.ts prints once its runner started. */
export const RUNNING_LINE = 'agentrec-test: running';

const SCRIPT = fileURLToPath(new URL('./run-agent-recommender.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RecommenderProcessOptions {
  brokers: string;
  group: string;
  stateDir: string;
  /** `--set` settings of topologies/agent-recommender.ts (inputTopic, outputTopic, partitions…). */
  settings: Record<string, string>;
  commitIntervalMs?: number;
  /** Most records per polled batch (the Kafka consumer's maxBatchSize). */
  maxBatch?: number;
  /** Static group membership: a restart with the same id takes the partitions back at once. */
  instanceId?: string;
  /**
   * `<store>:<n>`: in that store's n-th flush with changes the process SIGKILLs itself after the
   * changelog got them and the task's other stores wrote theirs, before this store writes its own.
   */
  killBeforeWrite?: string;
  /** 'exactly-once': outputs, changelogs and offsets in one Kafka transaction per commit. */
  processingGuarantee?: 'at-least-once' | 'exactly-once';
  /** exactly-once: how long the broker lets a transaction stay open (the transport's default: 60 s). */
  transactionTimeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The agent recommender in a child process (test/support/run-agent-recommender.ts), started
 * directly with `node --import tsx` so that SIGKILL hits the process that owns the RocksDB
 * state and the consumer, not a launcher in front of it.
 */
export class RecommenderProcess {
  readonly exited: Promise<Exit>;
  private output = '';
  private readonly child: ChildProcess;

  constructor(options: RecommenderProcessOptions) {
    const args = ['--import', 'tsx', SCRIPT, '--brokers', options.brokers, '--group', options.group, '--state-dir', options.stateDir];
    for (const [key, value] of Object.entries(options.settings)) args.push('--set', `${key}=${value}`);
    if (options.commitIntervalMs !== undefined) args.push('--commit-interval-ms', String(options.commitIntervalMs));
    if (options.maxBatch !== undefined) args.push('--max-batch', String(options.maxBatch));
    if (options.instanceId) args.push('--instance-id', options.instanceId);
    if (options.killBeforeWrite) args.push('--kill-before-write', options.killBeforeWrite);
    if (options.processingGuarantee) args.push('--processing-guarantee', options.processingGuarantee);
    if (options.transactionTimeoutMs) args.push('--transaction-timeout-ms', String(options.transactionTimeoutMs));
    this.child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Everything the process wrote so far (stdout and stderr interleaved). */
  get log(): string {
    return this.output;
  }

  /** Resolves once the runner started; rejects if the process exits first or takes too long. */
  async running(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exit: Exit | undefined;
    void this.exited.then((e) => (exit = e));
    while (!this.output.includes(RUNNING_LINE)) {
      if (exit) throw new Error(`recommender process exited (${JSON.stringify(exit)}) before running:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`recommender process not running after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Asks the process to print where its partitions stand (SIGUSR2); resolves once it did, or after 2 s. */
  async describe(): Promise<void> {
    const before = this.output.length;
    this.child.kill('SIGUSR2');
    for (const deadline = Date.now() + 2000; Date.now() < deadline && !this.output.slice(before).includes('agentrec-test: state');) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** kill -9, then waits for the process to be gone. */
  async kill(): Promise<Exit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Graceful stop (SIGTERM: drain, flush, commit); throws unless it exits with code 0. */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited.finally(() => clearTimeout(timer));
    if (exit.code !== 0) throw new Error(`recommender process did not stop cleanly (${JSON.stringify(exit)}):\n${this.output}`);
  }
}
