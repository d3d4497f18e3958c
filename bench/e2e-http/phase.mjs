// Totals of one variant's counted phases of one kind (saturated or light) in a round, from the
// instances' counters read before and after each phase, and the round's summary of a variant.
import { Latencies } from './load.mjs';

const COUNTERS = [
  'gets',
  'hits',
  'hotHits',
  'peerLoads',
  'peerRequestsServed',
  'loads',
  'dedupedLoads',
  'fallbackLoads',
  'peerErrors',
];
const sum = (values) => values.reduce((a, b) => a + b, 0);

export class PhaseTotals {
  ok = 0;
  failed = 0;
  seconds = 0;
  latencies = new Latencies();
  cpuSeconds = [];
  /** The main threads' share of cpuSeconds (NaN where the platform has no per-thread figure). */
  mainCpuSeconds = 0;
  gcPauseMs = 0;
  gcPauses = 0;
  eluActiveMs = [];
  eluTotalMs = [];
  redisCpu = 0;
  loadgenCpu = 0;
  /** distcache keyspace counters, summed over the instances (empty for other variants). */
  cache = {};

  /** Adds one phase: autocannon's outcome and each instance's counters before and after it. */
  add(load, before, after, redisCpu, loadgenCpu) {
    this.ok += load.ok;
    this.failed += load.failed;
    this.seconds += load.seconds;
    this.redisCpu += redisCpu;
    this.loadgenCpu += loadgenCpu;
    after.forEach((end, i) => {
      const start = before[i];
      const active = end.eluActiveMs - start.eluActiveMs;
      this.cpuSeconds[i] = (this.cpuSeconds[i] ?? 0) + (end.cpuMicros - start.cpuMicros) / 1e6;
      this.mainCpuSeconds += ((end.mainThreadCpuMicros ?? NaN) - (start.mainThreadCpuMicros ?? NaN)) / 1e6;
      this.gcPauseMs += end.gcPauseMs - start.gcPauseMs;
      this.gcPauses += end.gcPauses - start.gcPauses;
      this.eluActiveMs[i] = (this.eluActiveMs[i] ?? 0) + active;
      this.eluTotalMs[i] = (this.eluTotalMs[i] ?? 0) + active + end.eluIdleMs - start.eluIdleMs;
      if (end.cache === undefined) return;
      for (const field of COUNTERS)
        this.cache[field] = (this.cache[field] ?? 0) + end.cache[field] - start.cache[field];
    });
  }

  summary() {
    const [p50, p99, p999] = this.latencies.percentiles(50, 99, 99.9);
    const cpuSum = sum(this.cpuSeconds);
    return {
      rps: this.ok / this.seconds,
      p50,
      p99,
      p999,
      ok: this.ok,
      failed: this.failed,
      cpuSum,
      cpuMax: Math.max(...this.cpuSeconds),
      cpuPerRequest: (cpuSum / this.ok) * 1e6,
      mainCpuPerRequest: (this.mainCpuSeconds / this.ok) * 1e6,
      otherThreadsCpuPerRequest: ((cpuSum - this.mainCpuSeconds) / this.ok) * 1e6,
      gcPausePerRequest: (this.gcPauseMs / this.ok) * 1e3,
      gcPausesPerKRequests: (this.gcPauses / this.ok) * 1e3,
      busyMax: Math.max(...this.eluActiveMs.map((active, i) => active / this.eluTotalMs[i])),
      redisCpu: this.redisCpu,
      redisCpuPerRequest: (this.redisCpu / this.ok) * 1e6,
      loadgenCpu: this.loadgenCpu,
      loadgenCpuPerRequest: (this.loadgenCpu / this.ok) * 1e6,
      cache: { ...this.cache },
    };
  }
}

/** A variant's figures for one round; `final` is every instance's counters at the round's end. */
export function summarizeRound(round, cluster, final) {
  const rss = final.map((stats) => stats.rssBytes / 2 ** 20);
  return {
    round,
    variant: cluster.variant,
    saturated: cluster.phases.saturated.summary(),
    light: cluster.phases.light.summary(),
    // Over the whole round (warm-up and every phase): the caches were empty at its start.
    sourceCalls: sum(final.map((stats) => stats.sourceCalls)),
    distinctKeys: cluster.keys.distinct,
    requested: cluster.keys.requested,
    rssSum: sum(rss),
    rssMax: Math.max(...rss),
    peakRssMax: Math.max(...final.map((stats) => stats.maxRssBytes / 2 ** 20)),
    items: sum(final.map((stats) => stats.cache?.items ?? 0)),
    hotItems: sum(final.map((stats) => stats.cache?.hotItems ?? 0)),
  };
}
