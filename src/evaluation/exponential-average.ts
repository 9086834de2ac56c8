/**
 * An exponentially weighted average, bias-corrected: the newest value weighs `smoothing`, each
 * older one (1 − smoothing) times less, and the weights are scaled to sum to 1 over the values
 * seen so far. Started from the first value instead, that value kept (1 − smoothing)^n of the
 * weight: after 230 ratings at 0.01 a tenth of the average, which made a short run's progress
 * gauges lean on where they began.
 */
export class ExponentialAverage {
  private sum = 0;
  private weight = 0;

  constructor(private readonly smoothing: number) {}

  add(value: number): void {
    this.sum = this.sum * (1 - this.smoothing) + this.smoothing * value;
    this.weight = this.weight * (1 - this.smoothing) + this.smoothing;
  }

  /** The average so far; undefined before the first value. */
  get value(): number | undefined {
    return this.weight > 0 ? this.sum / this.weight : undefined;
  }
}
