/**
 * Events/s over fixed windows of a run, from a running count sampled as often as the caller
 * likes. One figure for a whole run hides what a stream's consumers feel: a cold start (every
 * user's first row read from RocksDB), a commit, a pause of the machine. The windows show
 * whether a rate holds.
 */
export interface RateWindow {
  /** Window end, ms since the run started. */
  endMs: number;
  /** Count at the window end. */
  count: number;
  rate: number;
}

export class RateWindows {
  readonly windows: RateWindow[] = [];
  private startMs = 0;
  private startCount = 0;

  constructor(private readonly windowMs: number) {}

  /** Feeds the count at `atMs` (since the run started); returns the window it closed, if any. */
  observe(atMs: number, count: number): RateWindow | undefined {
    if (atMs - this.startMs < this.windowMs) return undefined;
    const window = { endMs: atMs, count, rate: ((count - this.startCount) * 1000) / (atMs - this.startMs) };
    this.windows.push(window);
    this.startMs = atMs;
    this.startCount = count;
    return window;
  }

  /**
   * Min, median and max over the complete windows after the first (the cold start: fresh stores,
   * a group still settling), or undefined with fewer than two windows.
   */
  steady(): { min: number; median: number; max: number; windows: number } | undefined {
    const rates = this.windows
      .slice(1)
      .map((w) => w.rate)
      .sort((a, b) => a - b);
    if (rates.length === 0) return undefined;
    return { min: rates[0], median: rates[Math.floor(rates.length / 2)], max: rates[rates.length - 1], windows: rates.length };
  }
}
