// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) on a local data directory.
// One process at a time may open a directory, so a multi-node cluster shares it through the
// launcher (see launcher.database.ts), not by opening it three times.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/** The file in a data directory naming the process that has it open. */
export const OWNER_FILE = 'distcache-sample.pid';

export class PgliteDatabase implements Database {
  readonly driver = 'pglite';

  private constructor(
    private readonly db: PGlite,
    private readonly lock: string | undefined,
  ) {}

  /**
   * Opens (or creates) the database in `dir`; `undefined` keeps it in memory. PGlite has no lock
   * of its own: a second process (a node started by hand beside `npm start`, a second launcher)
   * opened a directory in use with no warning, and the writes it acknowledged were lost.
   * @throws Error when a live process has `dir` open
   */
  static async open(dir: string | undefined): Promise<PgliteDatabase> {
    if (dir === undefined) return new PgliteDatabase(await PGlite.create(), undefined);
    mkdirSync(dir, { recursive: true });
    const lock = lockDirectory(dir);
    try {
      return new PgliteDatabase(await PGlite.create(dir), lock);
    } catch (error) {
      rmSync(lock, { force: true });
      throw error;
    }
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
    if (this.lock !== undefined && ownerOf(this.lock) === process.pid) rmSync(this.lock, { force: true });
  }
}

/**
 * Writes this process's pid into `dir`'s owner file, unless a live process already has it open
 * (a file left by a process that died, kill -9 say, is taken over). Returns the file's path.
 */
function lockDirectory(dir: string): string {
  const file = join(dir, OWNER_FILE);
  const owner = ownerOf(file);
  if (owner !== undefined && isAlive(owner)) {
    throw new Error(
      `The PGlite database in ${dir} is open in process ${owner} (${owner === process.pid ? 'this one' : 'another npm start, or a node started by hand'}): ` +
        'PGlite allows one process per directory, and a second one loses writes. Stop that process, or give ' +
        "this one its own PGLITE_DIR (or a DATABASE_URL); nodes of one cluster share the launcher's database (npm start).",
    );
  }
  writeFileSync(file, String(process.pid));
  return file;
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
