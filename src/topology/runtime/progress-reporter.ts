import type { TopologyRunner } from './topology-runner.js';

interface Snapshot {
  at: number;
  input: number;
  output: number;
  deadLettered: number;
  gauges: Map<string, number>;
}

/** A step gauge beside its reference (setReference): the same measure, two predictors. */
interface Comparison {
  metric: string;
  value: number;
  reference: string;
  referenceValue: number;
  better: 'higher' | 'lower';
}

/** A task held this long by one operation (a batch, a commit) is named on the progress line. */
const HELD_UP_AFTER_MS = 30_000;

/**
 * Long runs show progress: every interval one line with throughput, totals and whatever the
 * steps report as gauges (training loss, AUC, rows…), read from the runner's own metrics. A
 * partition held up by one operation for long is named on the line, so a stall is seen, not
 * inferred from a rate that stopped moving.
 */
export class ProgressReporter {
  private timer?: NodeJS.Timeout;
  private readonly started = performance.now();
  private last?: Snapshot;

  constructor(
    private readonly runner: TopologyRunner,
    private readonly write: (line: string) => void,
    private readonly intervalMs = 2000,
    private readonly heldUpAfterMs = HELD_UP_AFTER_MS,
  ) {}

  start(): void {
    this.last = { at: performance.now(), input: 0, output: 0, deadLettered: 0, gauges: new Map() };
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Resolves once no record has entered the topology for a whole interval or, sooner, once
   * `expectedInput` records (what a simulation produced) have entered and no more came for two
   * checks 100 ms apart: a 20,000-event `npm start` sat idle for its last 2–3 seconds.
   */
  async waitUntilIdle(signal: AbortSignal, expectedInput = Infinity): Promise<void> {
    const pollMs = 100;
    let previous = -1;
    let quietSince = performance.now();
    let quietChecks = 0;
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, pollMs));
      const now = (await this.snapshot()).input;
      if (now !== previous) {
        previous = now;
        quietSince = performance.now();
        quietChecks = 0;
        continue;
      }
      quietChecks++;
      if ((now >= expectedInput && quietChecks >= 2) || performance.now() - quietSince >= this.intervalMs) return;
    }
  }

  async summary(): Promise<void> {
    const s = await this.snapshot();
    const seconds = (performance.now() - this.started) / 1000;
    this.write(
      `done: ${s.input} records in, ${s.output} out, ${s.deadLettered} dead-lettered in ${seconds.toFixed(1)} s${formatGauges(s.gauges, this.runner.metrics.summedStepValues)}`,
    );
    for (const c of this.comparisons(s)) {
      const ratio = c.referenceValue > 0 ? c.value / c.referenceValue : undefined;
      const ahead = ratio !== undefined && (c.better === 'higher' ? ratio >= 1 : ratio <= 1);
      const verdict = ratio === undefined ? '' : `: ×${ratio.toFixed(2)} (${ahead ? 'ahead' : 'behind'})`;
      this.write(`${c.metric} ${c.value.toFixed(3)} vs ${c.reference} ${c.referenceValue.toFixed(3)}${verdict}`);
    }
  }

  /** Step gauges that have a reference value, in the order the references were first set. */
  private comparisons(s: Snapshot): Comparison[] {
    const out: Comparison[] = [];
    for (const [metric, { reference, value, better }] of this.runner.metrics.references) {
      const own = s.gauges.get(metric);
      if (own !== undefined) out.push({ metric, value: own, reference, referenceValue: value, better });
    }
    return out;
  }

  private async tick(): Promise<void> {
    const s = await this.snapshot();
    const rate = this.last ? ((s.input - this.last.input) * 1000) / (s.at - this.last.at) : 0;
    this.last = s;
    const elapsed = ((performance.now() - this.started) / 1000).toFixed(0).padStart(4);
    this.write(
      `[${elapsed}s] in ${s.input.toLocaleString('en')} (${Math.round(rate).toLocaleString('en')}/s) out ${s.output.toLocaleString('en')} dead-lettered ${s.deadLettered}${formatGauges(s.gauges, this.runner.metrics.summedStepValues)}${formatComparisons(this.comparisons(s))}${this.brokerOutage()}${this.heldUp()}`,
    );
  }

  /** An unreachable broker explains a rate of zero and commits held up, so it comes first. */
  private brokerOutage(): string {
    const outage = this.runner.brokerOutageMs;
    return outage === undefined ? '' : ` — Kafka unreachable for ${Math.round(outage / 1000)} s, waiting for it`;
  }

  private heldUp(): string {
    const held = this.runner
      .describe()
      .tasks.filter((task) => task.running && task.running.forMs >= this.heldUpAfterMs)
      .map((task) => `partition ${task.partition} in '${task.running!.operation}' for ${Math.round(task.running!.forMs / 1000)} s`);
    return held.length ? ` — held up: ${held.join(', ')} (kill -USR2 <pid> prints where every partition stands)` : '';
  }

  private async snapshot(): Promise<Snapshot> {
    const { metrics, topology } = this.runner;
    const firstStep = topology.steps[0]?.name;
    // Step gauges are per partition: counts are summed across partitions, the rest averaged.
    const sums = new Map<string, { total: number; count: number }>();
    for (const v of (await metrics.stepValue.get()).values) {
      const name = String(v.labels.name);
      const entry = sums.get(name) ?? { total: 0, count: 0 };
      entry.total += v.value;
      entry.count++;
      sums.set(name, entry);
    }
    const gauges = new Map([...sums].map(([name, { total, count }]) => [name, metrics.summedStepValues.has(name) ? total : total / count]));
    return {
      at: performance.now(),
      input: await metrics.total('recordsIn', firstStep),
      output: await metrics.total('recordsOut', topology.sink.name),
      deadLettered: await metrics.total('deadLettered'),
      gauges,
    };
  }
}

function formatGauges(gauges: Map<string, number>, counts: ReadonlySet<string>): string {
  if (gauges.size === 0) return '';
  // Counts, and any value of 100 or more, as whole numbers; the rest (losses, rates) to 3 decimals.
  const format = (name: string, v: number) => (counts.has(name) || Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(3));
  return ' | ' + [...gauges].map(([name, v]) => `${name} ${format(name, v)}`).join('  ');
}

function formatComparisons(comparisons: readonly Comparison[]): string {
  return comparisons.map((c) => ` · ${c.metric} ${c.value.toFixed(3)} vs ${c.reference} ${c.referenceValue.toFixed(3)}`).join('');
}
