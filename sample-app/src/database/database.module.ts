import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { type AppConfig, configOf } from '../config/app.config.js';
import { ensureCatalogue } from './catalogue.schema.js';
import { DATABASE, type Database } from './database.js';
import { LauncherDatabase } from './launcher.database.js';
import { PgliteDatabase } from './pglite.database.js';
import { PostgresDatabase } from './postgres.database.js';

/** Opens the configured database and, unless the launcher owns it, creates and seeds the catalogue. */
export async function openDatabase(config: AppConfig, logger = new Logger('Database')): Promise<Database> {
  let db: Database;
  switch (config.databaseDriver) {
    case 'launcher':
      return new LauncherDatabase();
    case 'postgres':
      db = new PostgresDatabase(config.databaseUrl ?? '');
      break;
    case 'pglite':
      db = await PgliteDatabase.open(config.pgliteDir);
      break;
  }
  try {
    const started = performance.now();
    const seeded = await ensureCatalogue(db, config.seedProducts);
    if (seeded > 0) logger.log(`seeded ${seeded} products in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return db;
}

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => openDatabase(configOf(config)),
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
