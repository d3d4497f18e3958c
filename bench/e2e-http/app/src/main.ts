// One instance of the bench app, forked by e2e-http.bench.mjs with its configuration as JSON in
// argv[2]. It serves GET /products/:id on 127.0.0.1, says "ready" over IPC once it can serve (for
// distcache: once the three instances see each other), answers "stats" with its counters, and
// closes the Nest app (leaving the cluster, disconnecting from Redis) on "stop".
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { DistCacheService } from 'nestjs-distcache';
import { AppModule } from './app.module.js';
import { parseInstanceConfig } from './config.js';
import { SimulatedDatabase } from './simulated-database.js';

type BenchMessage = { type: 'stats' } | { type: 'stop' };

const config = parseInstanceConfig(process.argv[2]);
const app = await NestFactory.create(AppModule.forVariant(config), { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(config.httpPort, '127.0.0.1');

const database = app.get(SimulatedDatabase);
const distcache =
  config.variant === 'distcache' || config.variant === 'distcache-standalone'
    ? app.get(DistCacheService)
    : undefined;
if (distcache !== undefined && config.variant === 'distcache') {
  const deadline = Date.now() + 30_000;
  while (distcache.stats().members < config.peerPorts.length) {
    if (Date.now() > deadline) throw new Error('the three distcache instances did not form a cluster');
    await sleep(20);
  }
}

// Where the CPU goes, beyond process.cpuUsage() (every thread): the main thread's own CPU time
// (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms), so the bench can tell the event
// loop's work from V8's helper threads (concurrent marking, parallel scavenges, sweeping) and libuv's
// pool; and the main thread's garbage-collection pauses, from the 'gc' performance entries.
const TICK_MICROS = 10_000;
function mainThreadCpuMicros(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after "(comm) ": state, ppid, ... utime is field 14 and stime field 15 of stat(5).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
  } catch {
    return undefined;
  }
}
let gcPauseMs = 0;
let gcPauses = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauseMs += entry.duration;
    gcPauses += 1;
  }
}).observe({ entryTypes: ['gc'] });

function snapshot() {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return {
    type: 'stats',
    index: config.index,
    pid: process.pid,
    sourceCalls: database.callCount,
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros: mainThreadCpuMicros(),
    gcPauseMs,
    gcPauses,
    eluActiveMs: elu.active,
    eluIdleMs: elu.idle,
    rssBytes: process.memoryUsage.rss(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
    cache: distcache?.stats().keySpaces.products,
  };
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  // process.exit (not a natural end) so that a --cpu-prof profile is written even if a client
  // library keeps a handle open.
  if (process.connected) process.send?.({ type: 'stopped' }, () => process.exit(0));
  else process.exit(0);
}

process.on('message', (message: BenchMessage) => {
  if (message.type === 'stats') process.send?.(snapshot());
  else if (message.type === 'stop') void stop();
});
// The bench went away (crash, Ctrl-C): do not outlive it.
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready', index: config.index, pid: process.pid });
