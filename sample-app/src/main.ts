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

const LOG_LEVELS = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
const levels = (process.env.LOG_LEVELS ?? 'log,warn,error').split(',').map((level) => level.trim());
const unknownLevels = levels.filter((level) => !(LOG_LEVELS as readonly string[]).includes(level));
if (unknownLevels.length > 0) {
  console.error(
    `catalogue: invalid configuration: LOG_LEVELS must be a comma-separated list of ${LOG_LEVELS.join(', ')}, got "${unknownLevels.join(',')}"`,
  );
  process.exit(1);
}

// A start that fails (a port taken, options the engine refuses) is one line and exit 1, not Nest's
// or Node's stack traces (abortOnError: false makes create() throw instead of exiting itself).
const app = await NestFactory.create(AppModule, { logger: levels as LogLevel[], abortOnError: false }).catch(
  (error: unknown) => cannotStart(error),
);
// SIGTERM / SIGINT -> app.close(): the engine leaves the cluster, then the database closes.
app.enableShutdownHooks();
await app.listen(config.httpPort, config.httpHost).catch(async (error: unknown) => {
  await app.close().catch(() => undefined);
  cannotStart(error);
});
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

function cannotStart(error: unknown): never {
  const text = error instanceof Error ? error.message : String(error);
  const address =
    (error as { code?: string }).code === 'EADDRINUSE'
      ? ' (a port of this node is taken: HTTP_PORT, CACHE_PORT or ADMIN_PORT)'
      : '';
  console.error(`catalogue: cannot start: ${text}${address}`);
  process.exit(1);
}
