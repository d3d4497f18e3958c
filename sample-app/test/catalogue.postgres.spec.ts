import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { catalogueSuite } from './catalogue.suite';

// The same suite against the local PostgreSQL server, in a database of its own, dropped after.
const server = process.env.E2E_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const database = `distcache_sample_e2e_${process.pid}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('catalogue on a three-node cluster, PostgreSQL (DATABASE_URL)', () => {
  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });
  catalogueSuite(() => ({ databaseUrl: `${server}/${database}` }));
});
