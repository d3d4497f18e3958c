// The database of a node started by the cluster launcher: statements go over the IPC channel to
// the launcher, which owns the one PGlite database of the cluster. So there is one catalogue, a
// PUT on any node is in the database every node reads, and "read once cluster-wide" is checkable.
import { type QueryMessage, isQueryReply } from './launcher.protocol.js';
import type { Database, Queryable } from './database.js';

interface Pending {
  resolve(rows: unknown[]): void;
  reject(error: Error): void;
}

export class LauncherDatabase implements Database {
  readonly driver = 'launcher';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly onMessage = (message: unknown): void => {
    if (!isQueryReply(message)) return;
    const waiter = this.pending.get(message.id);
    if (waiter === undefined) return;
    this.pending.delete(message.id);
    if (message.kind === 'db.rows') waiter.resolve(message.rows);
    else waiter.reject(Object.assign(new Error(message.message), { code: message.code }));
  };
  private readonly onDisconnect = (): void => {
    for (const waiter of this.pending.values())
      waiter.reject(new Error('the launcher (database owner) is gone'));
    this.pending.clear();
  };

  constructor() {
    if (typeof process.send !== 'function')
      throw new Error('LauncherDatabase needs an IPC channel to the launcher');
    process.on('message', this.onMessage);
    process.on('disconnect', this.onDisconnect);
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const id = this.nextId++;
    const message: QueryMessage = { kind: 'db.query', id, sql, params: [...params] };
    return new Promise<T[]>((resolve, reject) => {
      if (process.connected !== true) {
        reject(new Error('the launcher (database owner) is gone'));
        return;
      }
      this.pending.set(id, { resolve: (rows) => resolve(rows as T[]), reject });
      process.send?.(message);
    });
  }

  /** The launcher seeds the database itself; nodes only run single statements. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return work(this);
  }

  close(): Promise<void> {
    process.off('message', this.onMessage);
    process.off('disconnect', this.onDisconnect);
    this.onDisconnect();
    return Promise.resolve();
  }
}
