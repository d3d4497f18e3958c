// What keeps a process alive. The engine's own timers (sweeps, heartbeats, purges) never do: a
// standalone engine left started does not hold a script open. A timer a caller waits for does: a
// get waiting for a rate-limit token, for a data source that never settles (its read timeout), or
// for its own `timeout`. Before, those were unref'd like the rest, and a script whose only pending
// work was such a wait ended with its promises unsettled (exit code 13 under top-level await, a
// silent exit 0 in CommonJS). Each case runs the built package in a child process, since what is
// tested is whether that process exits and how.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageRoot = join(import.meta.dirname, '..', '..');

async function run(script: string): Promise<{ code: number; out: unknown; ms: number }> {
  const started = Date.now();
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--eval', script],
      { cwd: packageRoot, timeout: 30_000 },
    );
    return { code: 0, out: JSON.parse(stdout) as unknown, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, out: failed.stdout, ms: Date.now() - started };
  }
}

describe('a caller waiting on a timer keeps the process alive', () => {
  it('gets queued behind a rate limit all finish in a script with nothing else to wait on', async () => {
    const result = await run(`
      import { DistCacheEngine } from 'distcache-core';
      let calls = 0;
      const engine = new DistCacheEngine({
        keySpaces: [{
          name: 'p',
          rateLimit: { perSecond: 20, burst: 5, maxWait: '10s' },
          dataSource: async (id) => ({ id, call: ++calls }),
        }],
      });
      await engine.start();
      const values = await Promise.all(Array.from({ length: 12 }, (_, i) => engine.get('p', String(i))));
      console.log(JSON.stringify({ ids: values.map((v) => v.id), calls }));
      await engine.stop();
    `);
    expect(result).toMatchObject({
      code: 0,
      out: { ids: Array.from({ length: 12 }, (_, i) => String(i)), calls: 12 },
    });
  });

  it('a source that never settles ends in its read timeout, and a caller’s own timeout in E_TIMEOUT', async () => {
    const result = await run(`
      import { DistCacheEngine } from 'distcache-core';
      const engine = new DistCacheEngine({
        keySpaces: [{ name: 'p', readTimeout: '300ms', dataSource: () => new Promise(() => {}) }],
      });
      await engine.start();
      const code = (promise) => promise.then(() => 'resolved', (error) => error.code);
      const first = await code(engine.get('p', 'a'));
      const second = await code(engine.get('p', 'b', { timeout: 100 }));
      console.log(JSON.stringify({ first, second }));
      await engine.stop();
    `);
    expect(result).toMatchObject({ code: 0, out: { first: 'E_DATASOURCE_TIMEOUT', second: 'E_TIMEOUT' } });
  });

  it('stop() ends the waits for rate-limit tokens at once, with E_ENGINE_STOPPED', async () => {
    const result = await run(`
      import { DistCacheEngine } from 'distcache-core';
      const engine = new DistCacheEngine({
        keySpaces: [{
          name: 'p',
          rateLimit: { perSecond: 0.2, burst: 1, maxWait: '20s' },
          dataSource: async (id) => ({ id }),
        }],
      });
      await engine.start();
      const started = Date.now();
      const outcomes = Array.from({ length: 4 }, (_, i) =>
        engine.get('p', String(i)).then(() => 'resolved', (error) => error.code),
      );
      setTimeout(() => void engine.stop(), 200);
      const codes = await Promise.all(outcomes);
      console.log(JSON.stringify({ codes, waitedMs: Date.now() - started }));
    `);
    expect(result).toMatchObject({
      code: 0,
      out: { codes: ['resolved', 'E_ENGINE_STOPPED', 'E_ENGINE_STOPPED', 'E_ENGINE_STOPPED'] },
    });
    // The three waiting gets had 5, 10 and 15 s left on their tokens: stop() did not wait for them.
    expect((result.out as { waitedMs: number }).waitedMs).toBeLessThan(4_000);
  });

  it('a started engine with nothing in flight does not hold the script open', async () => {
    const result = await run(`
      import { DistCacheEngine } from 'distcache-core';
      const engine = new DistCacheEngine({ keySpaces: [{ name: 'p', dataSource: async (id) => ({ id }) }] });
      await engine.start();
      await engine.get('p', '1');
      console.log(JSON.stringify({ started: true }));
    `);
    expect(result).toMatchObject({ code: 0, out: { started: true } });
  });
});
