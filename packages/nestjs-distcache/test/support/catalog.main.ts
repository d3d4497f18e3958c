// Entry point of a catalogue app in its own process (forked by the child-process tests, run
// through register-swc.mjs). Reports its URL to the parent once it listens.
import { NestFactory } from '@nestjs/core';
import { CatalogModule } from './catalog.app';
import { FileDatabase } from './file-database';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const port = Number(env('CACHE_PORT'));
const app = await NestFactory.create(
  CatalogModule.register({
    nodeName: env('NODE_NAME'),
    port,
    peers: env('CACHE_PEERS').split(','),
    clusterOptions: JSON.parse(env('CLUSTER_OPTIONS')) as Record<string, number>,
    database: new FileDatabase(env('CATALOG_DB')),
  }),
  { logger: ['error', 'warn'] },
);
// SIGTERM -> app.close() -> beforeApplicationShutdown: the engine leaves the cluster.
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.send?.({ type: 'ready', url: await app.getUrl(), id: `127.0.0.1:${port}` });
