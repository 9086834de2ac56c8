import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe } from 'vitest';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether scripts/kafka/start.sh can start a broker here (it needs a JDK). */
const hasJava = spawnSync('java', ['-version']).status === 0;

if (!hasJava && process.env.CI === 'true') {
  // In CI a broker that cannot be started is a failure, never a skip.
  throw new Error('CI=true but java is missing: the tests that start their own Kafka broker cannot run');
}

/** describe() for tests that start and kill a broker of their own; skipped loudly (never in CI) without Java. */
export const describeScratchBroker = (hasJava ? describe : describe.skip) as typeof describe;

/** Secured listeners the broker adds beside its PLAINTEXT one (scripts/kafka/start.sh, KAFKA_SASL / KAFKA_SSL). */
export interface ScratchBrokerSecurity {
  /** The one SASL/PLAIN user the broker accepts, on port+2 (SASL_PLAINTEXT). */
  sasl?: { user: string; password: string };
  /** Also SASL_SSL on port+3, with a self-signed certificate (caLocation). */
  ssl?: boolean;
}

/**
 * A Kafka broker of one test's own, on its own port and data directory, started and stopped with
 * scripts/kafka/start.sh and stop.sh: a test may kill it and start it again on the same data
 * without touching the shared broker other tests (and other work on this machine) use.
 */
export class ScratchBroker {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'agentrec-broker-'));

  constructor(
    readonly port: number,
    private readonly security: ScratchBrokerSecurity = {},
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The SASL_PLAINTEXT listener (PLAIN mechanism). */
  get saslAddress(): string {
    return `127.0.0.1:${this.port + 2}`;
  }

  /** The SASL_SSL listener (PLAIN over TLS). */
  get sslAddress(): string {
    return `127.0.0.1:${this.port + 3}`;
  }

  /** The broker's self-signed certificate, for a client's ssl.ca.location. */
  get caLocation(): string {
    return join(REPO_ROOT, `.kafka/tls-${this.port}/ca.pem`);
  }

  /** The broker's own log (server.log and stdout). */
  get logFile(): string {
    return join(REPO_ROOT, `.kafka/broker-${this.port}.log`);
  }

  /** Starts it; `keepData` restarts it on what it stored before (KAFKA_KEEP_DATA=1). */
  async start(options: { keepData?: boolean } = {}): Promise<void> {
    await this.script('start.sh', { KAFKA_KEEP_DATA: options.keepData ? '1' : '0' });
  }

  /** SIGKILL, as a crashed broker or a pulled cable looks to its clients. */
  async kill(): Promise<void> {
    await this.script('stop.sh', { KAFKA_KILL: '1' });
  }

  /** Stops it and removes its data. */
  async remove(): Promise<void> {
    await this.script('stop.sh', { KAFKA_KILL: '1' });
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async script(name: string, env: Record<string, string>): Promise<void> {
    const { sasl, ssl } = this.security;
    const secured: Record<string, string> = sasl
      ? { KAFKA_SASL: '1', KAFKA_SSL: ssl ? '1' : '0', KAFKA_SASL_USER: sasl.user, KAFKA_SASL_PASSWORD: sasl.password }
      : {};
    await run('bash', [join(REPO_ROOT, 'scripts/kafka', name)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, ...secured, KAFKA_PORT: String(this.port), KAFKA_DATA_DIR: this.dataDir },
      timeout: 120_000,
    });
  }
}
