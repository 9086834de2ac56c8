import type { ConnectionStatus } from './types.js';

/** How often librdkafka reports statistics to a watched client (statistics.interval.ms). */
export const STATS_INTERVAL_MS = 1000;

/** The parts of librdkafka's statistics JSON the transport reads (STATISTICS.md). */
export interface LibrdkafkaStats {
  brokers?: Record<string, { state?: string }>;
  cgrp?: { state?: string; join_state?: string; assignment_size?: number };
}

/** A librdkafka client as the monitor needs it: its error and statistics events. */
interface WatchedClient {
  on(event: 'event.error', listener: (error: Error) => void): unknown;
  on(event: 'event.stats', listener: (stats: { message: string }) => void): unknown;
}

/** librdkafka raises this (with code -1 in the binding's events) once no broker connection is left. */
const ALL_BROKERS_DOWN = /all broker connections are down/i;

/**
 * Tells whether the Kafka cluster answers, from what the transport's long-lived clients (the
 * group consumer, the producers) already know: librdkafka's "all brokers down" error marks a
 * client cut off at once, and its statistics, every STATS_INTERVAL_MS, say whether any of its
 * broker connections is up again. The cluster counts as reachable while any client has one, so
 * an idle client that dropped its connections does not make a working cluster look down.
 */
export class BrokerConnectionMonitor {
  /** Per watched client: whether it has a broker connection up. */
  private readonly clients = new Map<object, boolean>();
  private reachable = true;
  private since = Date.now();
  private lastError: string | undefined;

  /** Starts following a client; `onStats` gets its parsed statistics too (the consumer's group state). */
  watch(client: WatchedClient, onStats?: (stats: LibrdkafkaStats) => void): void {
    // A client is created after the transport reached the cluster, so it starts out connected.
    this.clients.set(client, true);
    client.on('event.error', (error) => {
      this.lastError = error.message;
      if (ALL_BROKERS_DOWN.test(error.message)) this.update(client, false);
    });
    client.on('event.stats', (event) => {
      let stats: LibrdkafkaStats;
      try {
        stats = JSON.parse(event.message) as LibrdkafkaStats;
      } catch {
        return;
      }
      const up = Object.values(stats.brokers ?? {}).some((broker) => broker.state === 'UP');
      this.update(client, up);
      onStats?.(stats);
    });
  }

  /** Stops counting a client that was closed. */
  forget(client: object): void {
    this.clients.delete(client);
  }

  status(): ConnectionStatus {
    return { reachable: this.reachable, since: this.since, ...(this.reachable ? {} : { lastError: this.lastError }) };
  }

  private update(client: object, up: boolean): void {
    if (!this.clients.has(client)) return;
    this.clients.set(client, up);
    const reachable = [...this.clients.values()].some(Boolean);
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    this.since = Date.now();
  }
}
