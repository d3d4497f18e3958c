// One instance of the bench app, forked by e2e-http.bench.mjs with its configuration as JSON in
// argv[2]. It serves GET /products/:id on 127.0.0.1, says "ready" over IPC once it can serve (for
// distcache: once the three instances see each other), answers "stats" with its counters, and
// closes the Nest app (leaving the cluster, disconnecting from Redis) on "stop".
import 'reflect-metadata';
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

function snapshot() {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return {
    type: 'stats',
    index: config.index,
    pid: process.pid,
    sourceCalls: database.callCount,
    cpuMicros: cpu.user + cpu.system,
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
