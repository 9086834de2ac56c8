import type { RuntimeMetrics } from '../../metrics.js';
import type { ConnectionStatus } from '../transport/types.js';

/** How often the transport's connection status is read. */
const CHECK_EVERY_MS = 1000;
/** The first reminder of an outage comes this long after it was reported; each next one after twice as long. */
const FIRST_REMINDER_MS = 10_000;
/** Reminders of a long outage come at least this often, so a log tail always shows it. */
const MAX_REMINDER_MS = 300_000;

export interface ConnectionWatchDeps {
  status(): ConnectionStatus;
  /** Where the log is, for the messages (e.g. 'Kafka at 127.0.0.1:9092'). */
  describeLog: string;
  topology: string;
  metrics: RuntimeMetrics;
  log(message: string): void;
  now?: () => number;
}

/**
 * Turns the transport's connection status into what an operator sees: a log line as soon as the
 * broker is lost, reminders with a doubling interval while it stays away, a line when it is back,
 * the agentrec_broker_up gauge and a disconnect counter. The runtime keeps running meanwhile:
 * deliveries and commits wait for the broker rather than fail (README, "Broker outages").
 */
export class ConnectionWatch {
  private timer?: NodeJS.Timeout;
  private downSince: number | undefined;
  private nextReminderAt = 0;
  private reminderMs = FIRST_REMINDER_MS;
  private readonly now: () => number;
  private readonly labels: { topology: string };

  constructor(private readonly deps: ConnectionWatchDeps) {
    this.now = deps.now ?? Date.now;
    this.labels = { topology: deps.topology };
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    // Watching alone must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** How long the broker has been unreachable (ms), or undefined while it answers. */
  get outageMs(): number | undefined {
    return this.downSince === undefined ? undefined : this.now() - this.downSince;
  }

  /** Reads the status once: what the timer does every second (tests call it with their own clock). */
  check(): void {
    const status = this.deps.status();
    const now = this.now();
    this.deps.metrics.brokerUp.set(this.labels, status.reachable ? 1 : 0);
    if (status.reachable) {
      if (this.downSince !== undefined) this.deps.log(`${this.deps.describeLog} answers again after ${seconds(now - this.downSince)} s`);
      this.downSince = undefined;
      return;
    }
    const why = status.lastError ? ` (${status.lastError})` : '';
    if (this.downSince === undefined) {
      this.downSince = Math.min(status.since, now);
      this.deps.metrics.brokerDisconnects.inc(this.labels);
      this.deps.log(
        `lost the connection to ${this.deps.describeLog}${why}: waiting for it; outputs, changelogs and offsets are sent once it is back`,
      );
      this.reminderMs = FIRST_REMINDER_MS;
      this.nextReminderAt = now + this.reminderMs;
      return;
    }
    if (now < this.nextReminderAt) return;
    this.deps.log(`still no connection to ${this.deps.describeLog} after ${seconds(now - this.downSince)} s${why}`);
    this.reminderMs = Math.min(this.reminderMs * 2, MAX_REMINDER_MS);
    this.nextReminderAt = now + this.reminderMs;
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
