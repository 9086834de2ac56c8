/**
 * What one sync adds to a shared row or parameter block: (index, amount) pairs, summed per index
 * when applied. Pairs, not a dense array per id: a sync between batches moves about a fifth of a
 * crosses chunk, and a freshly zeroed Float64Array per chunk per sync was most of a sync's time.
 */
export class SyncShift {
  private readonly at: number[] = [];
  private readonly by: number[] = [];

  constructor(readonly length: number) {}

  /** Adds every nonzero value of a dense vector. */
  addDense(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) if (values[i] !== 0) this.add(i, values[i]);
  }

  /** Adds values[k] at indices[k]. */
  addSparse(indices: ArrayLike<number>, values: ArrayLike<number>): void {
    for (let k = 0; k < indices.length; k++) this.add(indices[k], values[k]);
  }

  add(index: number, amount: number): void {
    this.at.push(index);
    this.by.push(amount);
  }

  /** The shift as one dense float64 vector (rows: a few dozen values). */
  dense(): Float64Array {
    const out = new Float64Array(this.length);
    for (let k = 0; k < this.at.length; k++) out[this.at[k]] += this.by[k];
    return out;
  }

  /**
   * Adds the shift to `parts` laid end to end (a block's weights, then its accumulators), each
   * index once with its amounts summed in float64 first, as a dense shift did. `scratch` is zero
   * wherever it is read and is left so.
   */
  applyTo(parts: readonly Float32Array[], scratch: SyncScratch): void {
    const sums = scratch.sums(this.length);
    const touched: number[] = [];
    for (let k = 0; k < this.at.length; k++) {
      const i = this.at[k];
      if (sums[i] === 0) touched.push(i);
      sums[i] += this.by[k];
    }
    for (const i of touched) {
      let part = 0;
      let offset = i;
      while (offset >= parts[part].length) offset -= parts[part++].length;
      parts[part][offset] = parts[part][offset] + sums[i];
      sums[i] = 0;
    }
  }
}

/** A float64 vector kept zero between uses, so applying a shift allocates nothing per block. */
export class SyncScratch {
  private buffer = new Float64Array(0);

  sums(length: number): Float64Array {
    if (this.buffer.length < length) this.buffer = new Float64Array(length);
    return this.buffer;
  }
}
