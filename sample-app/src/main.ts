// One replica of the catalogue service. Configuration: environment variables (see README.md).
// Started by the launcher (npm start), it reports "ready" over IPC once it listens.
import 'reflect-metadata';
import { parseCommandLine } from './cli/command-line.js';
import { ConfigError, validateEnv } from './config/app.config.js';
import type { ReadyMessage } from './database/launcher.protocol.js';

parseCommandLine({
  command: 'npm run serve -w sample-app',
  help: `One replica of the catalogue service (\`npm start\` runs three). It takes no flags: it is configured
by environment variables, listed with their defaults in sample-app/README.md, among them
HTTP_HOST/HTTP_PORT, CACHE_HOST/CACHE_PORT, CACHE_PEERS, CACHE_DISCOVERY, NATS_URL, DATABASE_URL,
PGLITE_DIR, ADMIN_PORT and LOG_LEVELS.`,
  options: {},
});

let config;
try {
  config = validateEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`catalogue: ${error.message}`);
  process.exit(1);
}

const { NestFactory } = await import('@nestjs/core');
const { AppModule } = await import('./app.module.js');
const { DashboardService } = await import('./dashboard/dashboard.service.js');

const app = await NestFactory.create(AppModule, {
  logger: (process.env.LOG_LEVELS ?? 'log,warn,error').split(',') as ('log' | 'warn' | 'error' | 'debug')[],
});
// SIGTERM / SIGINT -> app.close(): the engine leaves the cluster, then the database closes.
app.enableShutdownHooks();
await app.listen(config.httpPort, config.httpHost);
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
const ready: ReadyMessage = {
  kind: 'ready',
  nodeName: config.nodeName,
  url,
  peerId: `${config.cacheHost}:${config.cachePort}`,
  adminUrl: app.get(DashboardService).url,
};
if (process.send !== undefined) process.send(ready);
else console.log(`catalogue ${config.nodeName} listening on ${url}`);

// A node of `npm start` gets its database from the launcher: if the launcher is gone, so is the
// catalogue; leave the cluster cleanly instead of answering 500s.
if (config.databaseDriver === 'launcher') {
  process.once('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
}
