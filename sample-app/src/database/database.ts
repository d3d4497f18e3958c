// The seam between the catalogue and its SQL database: PGlite in process, PostgreSQL over a pool,
// or the PGlite database the cluster launcher owns (over IPC).

/** Something that runs parameterised SQL. */
export interface Queryable {
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** A connection to the catalogue database. */
export interface Database extends Queryable {
  /** `pglite`, `postgres` or `launcher`. */
  readonly driver: string;
  /** Runs `work` in one transaction on one connection. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Injection token of the {@link Database}. */
export const DATABASE = Symbol('DATABASE');
