// A closed-loop load: N workers, each awaiting one operation at a time, for a warm-up and then a
// counted window. This is how the network scenarios (get-many, scaling) drive a cache: "N requests
// in flight". Rates are wall-clock, because the other side (an owner process, redis-server) works
// in parallel on the other core; CPU time per operation of this process and of the server
// processes is measured over the same window, since on this shared VM it moves far less than the
// rates do and it says which side is the limit. (remote-hit keeps its own inline copy of this loop,
// calling the get directly, so that its numbers stay comparable with its earlier recorded runs.)
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './measure.mjs';

export { shuffled } from './measure.mjs';
import { cpuMicros } from './processes.mjs';

// One buffer for all runs of a process: latencies of the counted window, in milliseconds.
const latencies = new Float64Array(1 << 22);

/**
 * @param {{ op: () => Promise<boolean>, concurrency: number, warmupMs: number, durationMs: number,
 *   serverPids?: Array<number | undefined> }} options `op` performs one operation and resolves to
 *   whether its answer was right; `serverPids` are the processes whose CPU time is charged to the
 *   server side (summed).
 * @returns {Promise<{ opsPerSecond: number, p50Us: number, p99Us: number, clientCpuUs: number,
 *   serverCpuUs: number | undefined, completed: number, wrong: number, elapsedMs: number }>}
 */
export async function runClosedLoop({ op, concurrency, warmupMs, durationMs, serverPids = [] }) {
  const state = { stop: false, recording: false, completed: 0, recorded: 0, wrong: 0 };
  // An operation answered from memory (a local hit) resolves in microtasks only, and workers
  // chaining such operations would never let the event loop reach the timers that end the warm-up
  // and the window. So once a millisecond every worker waits at one gate that opens in the check
  // phase (setImmediate); operations that do I/O pass it with the event loop turning anyway.
  let gate;
  let lastTurn = performance.now();
  const nextTurn = () =>
    (gate ??= new Promise((resolveGate) =>
      setImmediate(() => {
        gate = undefined;
        lastTurn = performance.now();
        resolveGate();
      }),
    ));
  const worker = async () => {
    while (!state.stop) {
      const started = performance.now();
      const right = await op();
      const ended = performance.now();
      if (!right) state.wrong++;
      if (state.recording) {
        state.completed++;
        if (state.recorded < latencies.length) latencies[state.recorded++] = ended - started;
      }
      if (ended - lastTurn >= 1) await nextTurn();
    }
  };
  const serverCpu = () => {
    let sum = 0;
    for (const pid of serverPids) {
      const used = cpuMicros(pid);
      if (used === undefined) return undefined;
      sum += used;
    }
    return serverPids.length === 0 ? undefined : sum;
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  state.recording = true;
  const start = performance.now();
  const clientCpu = process.cpuUsage();
  const serverBefore = serverCpu();
  await sleep(durationMs);
  state.recording = false;
  const elapsedMs = performance.now() - start;
  const { user, system } = process.cpuUsage(clientCpu);
  const serverAfter = serverCpu();
  state.stop = true;
  await Promise.all(workers);
  const sample = latencies.subarray(0, state.recorded).sort();
  const at = (q) =>
    sample.length === 0 ? NaN : sample[Math.min(sample.length - 1, Math.floor(q * sample.length))] * 1e3;
  const completed = Math.max(state.completed, 1);
  return {
    opsPerSecond: (state.completed / elapsedMs) * 1e3,
    p50Us: at(0.5),
    p99Us: at(0.99),
    clientCpuUs: (user + system) / completed,
    serverCpuUs:
      serverBefore === undefined || serverAfter === undefined
        ? undefined
        : (serverAfter - serverBefore) / completed,
    completed: state.completed,
    wrong: state.wrong,
    elapsedMs,
  };
}

/**
 * An access order: back-to-back seeded shuffles of `0..count-1`, `length` entries (a power of 2).
 * Workers taking consecutive entries from one shared cursor always ask for distinct keys, so a
 * client's own single-flight never merges two requests in flight (which Redis could not do).
 */
export function shuffledOrder(count, length, random) {
  const order = new Uint32Array(length);
  const deck = Array.from({ length: count }, (_, i) => i);
  for (let filled = 0; filled < length;) {
    for (let i = deck.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    for (let i = 0; i < deck.length && filled < length; i++) order[filled++] = deck[i];
  }
  return order;
}

/**
 * The median over rounds of `mine[field] / theirs[field]`, pairing samples of the same `round`
 * (noise that slows one round down cancels out); `invert` gives `theirs / mine` (for latencies).
 * Undefined when either side has no sample.
 */
export function pairedRatio(mine, theirs, field = 'opsPerSecond', invert = false) {
  const ratios = [];
  for (const sample of mine) {
    const other = theirs.find((candidate) => candidate.round === sample.round);
    if (other === undefined) continue;
    ratios.push(invert ? other[field] / sample[field] : sample[field] / other[field]);
  }
  return ratios.length === 0 ? undefined : median(ratios);
}

/** The median of `field` over samples, skipping undefined values; undefined when none is known. */
export function medianOf(samples, field) {
  const known = samples.map((sample) => sample[field]).filter((value) => typeof value === 'number');
  return known.length === 0 ? undefined : median(known);
}
