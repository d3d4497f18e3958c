// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) on a local data directory.
// One process at a time may open a directory, so a multi-node cluster shares it through the
// launcher (see launcher.database.ts), not by opening it three times.
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

export class PgliteDatabase implements Database {
  readonly driver = 'pglite';

  private constructor(private readonly db: PGlite) {}

  /** Opens (or creates) the database in `dir`; `undefined` keeps it in memory. */
  static async open(dir: string | undefined): Promise<PgliteDatabase> {
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
    return new PgliteDatabase(await PGlite.create(dir));
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, [...params])).rows;
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx: Transaction) =>
      work({
        query: async <R>(sql: string, params: readonly unknown[] = []) =>
          (await tx.query<R>(sql, [...params])).rows,
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
