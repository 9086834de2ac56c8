/**
 * Deterministic pseudo-random helpers for reproducible initialisation of dense weights. The
 * generator is a value the caller owns (created per task from a seed), never module state, so two
 * tasks with the same seed initialise bit-identical weights regardless of call order elsewhere.
 */

/** A seeded stream of uniform floats in [0, 1). */
export interface Random {
  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Next float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
  /** Next standard normal variate (Box–Muller; the spare value is kept for the next call). */
  nextGaussian(): number;
}

/**
 * splitmix32: passes the usual statistical batteries for this purpose, one 32-bit state word, and
 * unlike mulberry32 any seed (0 included) gives a full-period stream.
 */
export function splitmix32(seed: number): Random {
  let state = seed >>> 0;
  let spare = Number.NaN;
  const nextUint32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  const nextFloat = (): number => nextUint32() / 4294967296;
  const nextGaussian = (): number => {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = Number.NaN;
      return value;
    }
    // 1 - u keeps the log argument in (0, 1], so no -Infinity.
    const radius = Math.sqrt(-2 * Math.log(1 - nextFloat()));
    const angle = 2 * Math.PI * nextFloat();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
  return { nextUint32, nextFloat, nextGaussian };
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit hash of bytes (strings are hashed as their UTF-8 encoding). */
export function fnv1a32(input: Uint8Array | string, seed = FNV_OFFSET_BASIS): number {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let hash = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * A seed for one named parameter block derived from a base seed, so adding a new block does not
 * shift the random stream of the existing ones.
 */
export function deriveSeed(baseSeed: number, name: string): number {
  return fnv1a32(name, (FNV_OFFSET_BASIS ^ baseSeed) >>> 0);
}

/** Fills `out` with U(-limit, limit). */
export function fillUniform(out: Float32Array, random: Random, limit: number, offset = 0, length = out.length - offset): void {
  for (let i = offset; i < offset + length; i++) out[i] = (2 * random.nextFloat() - 1) * limit;
}

/** Fills `out` with N(0, std²). */
export function fillGaussian(out: Float32Array, random: Random, std: number, offset = 0, length = out.length - offset): void {
  for (let i = offset; i < offset + length; i++) out[i] = random.nextGaussian() * std;
}

/** Glorot/Xavier uniform for a fanOut×fanIn matrix stored at out[offset, offset+fanIn·fanOut). */
export function fillGlorotUniform(out: Float32Array, random: Random, fanIn: number, fanOut: number, offset = 0): void {
  fillUniform(out, random, Math.sqrt(6 / (fanIn + fanOut)), offset, fanIn * fanOut);
}
