// A hand-rolled, interleaved throughput harness for operations that take tens of nanoseconds.
//
// Why not tinybench's per-iteration timing: it reads the clock around every call, which costs about
// as much as the lru-cache get it would measure and so squeezes every ratio towards 1. Here each
// candidate brings its own loop (a separate function, so V8 optimises every loop for one callee)
// and the harness times whole batches of calls.
//
// Why interleaved rounds and medians: the machine is a shared 2-core VM whose speed swings by 2x
// within a second when a neighbour wakes up. Running candidate A for five seconds and then B for
// five seconds lets that land on one of them; running one short batch of A, B, C, ... in a fresh
// random order in each of many rounds spreads it over all, medians discard the disturbed rounds,
// and ratios taken within a round cancel what slowed the whole round down.
//
// Why CPU time rather than wall time: when a neighbour takes the core, wall time counts the time
// this process sat waiting, CPU time does not (getrusage is exact on Linux). It still counts the
// process's own GC helper threads, which is real cost. Rates are therefore ops per CPU-second:
// the speed of a core this process has to itself, which is what the ratios compare.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Collections are forced between batches (see below). `gc` is exposed at runtime so that a plain
// `node file.bench.mjs` is enough.
setFlagsFromString('--expose-gc');
/** V8's `gc()`: a full collection, or `{ type: 'minor' }` for the young generation only. */
export const collectGarbage = globalThis.gc ?? runInNewContext('gc');

/** A small seeded PRNG (mulberry32): the same key sequence and round order on every run. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A fresh random order of `items` (Fisher-Yates with the given PRNG). */
export function shuffled(items, random) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Milliseconds of CPU time this process spent running `run(n)` (see the note at the top). */
async function timeBatch(run, n) {
  const started = process.cpuUsage();
  const result = run(n);
  if (result !== undefined && typeof result.then === 'function') await result;
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1e3;
}

/** Batch size that makes one batch last about `sampleMs`. */
async function calibrate(run, sampleMs) {
  let n = 64;
  for (;;) {
    const ms = await timeBatch(run, n);
    if (ms >= 2 || n >= 1 << 26) return Math.max(1, Math.ceil((n * sampleMs) / Math.max(ms, 1e-3)));
    n *= 2;
  }
}

/** The value at quantile `q` (0..1) of `values`, linear between neighbours. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/**
 * Measures the throughput of each candidate in interleaved rounds: every round times one batch
 * (about `sampleMs` long) of each candidate, in a fresh random order.
 *
 * @param {Array<{ name: string, run: (n: number) => unknown }>} candidates `run(n)` performs n
 *   operations (sync, or async returning a promise) in its own loop.
 * @param {{ rounds?: number, sampleMs?: number, warmupMs?: number, seed?: number,
 *   onProgress?: (done: number, total: number) => void }} [options]
 * @returns {Promise<Measurement[]>}
 *
 * @typedef {{ name: string, samples: number[], opsPerSecond: number, spread: number,
 *   ratioTo: (other: Measurement) => { ratio: number, spread: number } }} Measurement
 *   `samples` are ops/s per round; `opsPerSecond` is their median and `spread` their
 *   interquartile range relative to it. `ratioTo` pairs this candidate's samples with `other`'s
 *   from the same rounds and returns the median ratio (and the ratios' relative IQR): noise that
 *   slows a whole round down cancels out of it.
 */
export async function measureInterleaved(candidates, options = {}) {
  const { rounds = 40, sampleMs = 10, warmupMs = 300, seed = 1, onProgress } = options;
  const random = seededRandom(seed);

  // Warm-up: long enough for every loop to reach optimised code before any timing counts.
  const batchSizes = new Map();
  for (const candidate of candidates) {
    const deadline = performance.now() + warmupMs;
    while (performance.now() < deadline) await timeBatch(candidate.run, 1_000);
    batchSizes.set(candidate, await calibrate(candidate.run, sampleMs));
  }
  collectGarbage();

  const samples = new Map(candidates.map((candidate) => [candidate, []]));
  for (let round = 0; round < rounds; round++) {
    for (const candidate of shuffled(candidates, random)) {
      // A young-generation collection (about a millisecond) before each batch, so that one
      // candidate's garbage is not collected on the next candidate's clock.
      collectGarbage({ type: 'minor' });
      const n = batchSizes.get(candidate);
      samples.get(candidate).push((n / (await timeBatch(candidate.run, n))) * 1e3);
    }
    onProgress?.(round + 1, rounds);
  }

  const measurements = candidates.map((candidate) => {
    const values = samples.get(candidate);
    const middle = median(values);
    return {
      name: candidate.name,
      samples: values,
      opsPerSecond: middle,
      spread: (quantile(values, 0.75) - quantile(values, 0.25)) / middle,
      ratioTo(other) {
        const ratios = values.map((value, round) => value / other.samples[round]);
        const ratio = median(ratios);
        return { ratio, spread: (quantile(ratios, 0.75) - quantile(ratios, 0.25)) / ratio };
      },
    };
  });
  return measurements;
}
