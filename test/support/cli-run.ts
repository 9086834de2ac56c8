import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `agentrec run` in a child process, started as `node --import tsx src/cli.ts run …` so that a
 * signal reaches the process that owns the consumer and the state (npx would add a parent). Keeps
 * its stderr and stdout with the time every line arrived, to measure how long something took to
 * show; `env` is added to the test's environment (credentials travel there, not in the arguments).
 */
export class CliRun {
  readonly exited: Promise<number | null>;
  readonly lines: { at: number; text: string }[] = [];
  private readonly partial = { stdout: '', stderr: '' };
  private readonly child: ChildProcess;

  constructor(args: string[], options: { env?: Record<string, string> } = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]!.on('data', (chunk: Buffer) => {
        const text = this.partial[stream] + chunk.toString();
        const complete = text.split('\n');
        this.partial[stream] = complete.pop()!;
        const at = Date.now();
        for (const line of complete) this.lines.push({ at, text: line });
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Every complete line so far, stdout and stderr interleaved, and what is left of unfinished ones. */
  get log(): string {
    return [...this.lines.map((line) => line.text), this.partial.stdout, this.partial.stderr].join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line after `since` (Date.now()) that contains `text`. */
  lineAfter(text: string, since = 0): { at: number; text: string } | undefined {
    return this.lines.find((line) => line.at >= since && line.text.includes(text));
  }

  /** The metrics server's base URL, once the run printed it. */
  get baseUrl(): string | undefined {
    return /metrics on (http:\/\/[^/\s]+)\/metrics/.exec(this.log)?.[1];
  }

  /** GET /readyz: the status code and the JSON body, or undefined when nothing answers. */
  async readyz(): Promise<
    { status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } } | undefined
  > {
    if (!this.baseUrl) return undefined;
    try {
      const response = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
      return { status: response.status, body: (await response.json()) as never };
    } catch {
      return undefined;
    }
  }

  /** One metric's value (the first series of that name), or undefined. */
  async metric(name: string): Promise<number | undefined> {
    if (!this.baseUrl) return undefined;
    const text = await (await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM and the exit code (drain, flush, commit), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    return this.exited.finally(() => clearTimeout(timer));
  }

  /** kill -9, then waits for the process to be gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
