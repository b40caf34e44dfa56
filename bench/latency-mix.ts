/** The latency mix of the hub benches: a seeded PRNG and log-normal latencies with a slow tail. */

/** Uniform numbers in [0, 1) from a fixed seed (mulberry32): every run records the same mix. */
let seed = 0x2545f491;
export function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A latency (ms): log-normal around the route's median, with a slow tail (0.5 % at 5-20x). */
export function latency(median: number): number {
  const u = Math.max(1e-9, random());
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  const v = median * Math.exp(0.5 * z);
  return random() < 0.005 ? v * (5 + 15 * random()) : v;
}
