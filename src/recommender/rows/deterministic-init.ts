export type InitDistribution = 'uniform' | 'normal';

/**
 * Fills `out` with initial embedding values that depend only on (key bytes, seed): uniform in
 * ±scale or normal with std `scale`. A replay, a restore on another instance, or a row that
 * expired and comes back all get bit-identical numbers, so results are reproducible without
 * storing rows that were never trained.
 *
 * The key is hashed into two independent 32-bit lanes that seed an sfc32 generator (128-bit
 * state): 2 M users would collide ~500 times under a single 32-bit seed and start with
 * identical vectors. Only integer ops and Float32 rounding are used for 'uniform', so the
 * numbers are the same on every platform; 'normal' also goes through Math.log/cos.
 */
export function fillDeterministic(key: Uint8Array, seed: number, out: Float32Array, distribution: InitDistribution, scale: number): void {
  const random = keyedGenerator(key, seed);
  if (distribution === 'uniform') {
    for (let i = 0; i < out.length; i++) out[i] = (random() * 2 - 1) * scale;
    return;
  }
  for (let i = 0; i < out.length; i += 2) {
    // Box–Muller; 1 - u keeps the log argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - random())) * scale;
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
  }
}

/** Uniform floats in [0, 1) from sfc32 seeded by a two-lane hash of `key` and `seed`. */
function keyedGenerator(key: Uint8Array, seed: number): () => number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < key.length; i++) {
    h1 = Math.imul(h1 ^ key[i], 2654435761);
    h2 = Math.imul(h2 ^ key[i], 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  let a = h1 >>> 0;
  let b = h2 >>> 0;
  let c = seed >>> 0;
  let d = (0x9e3779b9 ^ key.length) >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // sfc32 mixes poorly in its first outputs when seeds share structure.
  for (let i = 0; i < 12; i++) next();
  return next;
}
