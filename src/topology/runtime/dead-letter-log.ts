/**
 * The stderr lines about dead letters, at most one per step per interval: a flood of bad input
 * must not bury the log (agentrec_records_dead_lettered_total counts every one). A line names
 * where the record was and why in a code only, never a field of the record: values may be
 * personal data.
 */
export class DeadLetterLog {
  private readonly steps = new Map<string, { lastLineAt: number; suppressed: number }>();

  constructor(
    private readonly log: (message: string) => void,
    private readonly intervalMs = 1000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  record(step: string, code: string, where: { topic: string; partition: number; offset: number }): void {
    const now = this.clock();
    const seen = this.steps.get(step);
    if (seen && now - seen.lastLineAt < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen && seen.suppressed > 0 ? ` (+${seen.suppressed} more at this step since the last line)` : '';
    this.log(`dead-lettered ${where.topic}[${where.partition}]@${where.offset} at step '${step}': ${code}${more}`);
    this.steps.set(step, { lastLineAt: now, suppressed: 0 });
  }
}
