// maxBytes is a budget of memory: what a keyspace counts for its entries must match what the
// process really holds for them. A child process under --expose-gc (test/support/heap-probe.mjs)
// fills an engine with a fixed set of realistic values of one kind, reads each twice, and reports
// per entry what the keyspace counted and what V8 heap + external memory grew by after full
// collections. One process per measurement, so that no earlier engine's memory is counted.
// Runs the built package (`npm run build` first), like the other process-based tests.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface ProbeResult {
  kind: string;
  count: number;
  measured: number;
  counted: number;
}

const packageRoot = join(import.meta.dirname, '..', '..');
/** The tolerance the estimate is documented to hold (packages/distcache-core/README.md). */
const TOLERANCE = 0.2;

/**
 * Each kind is measured this many times, each in a fresh process (see heap-probe.mjs for why), and
 * the measurement with the median heap growth is used. Fresh processes vary by 2-3 points of the
 * ratio between runs (2026-12-04); the median keeps a single outlier from deciding. The count of
 * the keyspace is the same in every run; only the heap measurement varies.
 */
const MEASUREMENTS = 3;
/** A probe takes 1-3 s; one that runs for a minute is stuck. */
const PROBE_TIMEOUT_MS = 60_000;

function probeOnce(valueMode: 'frozen' | 'copy', kind: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      join(packageRoot, 'test', 'support', 'heap-probe.mjs'),
      [JSON.stringify({ kind, valueMode })],
      {
        cwd: packageRoot,
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        timeout: PROBE_TIMEOUT_MS,
      },
    );
    let result: ProbeResult | undefined;
    child.on('message', (message) => {
      result = (message as { result: ProbeResult }).result;
    });
    child.on('error', reject);
    // 'close', not 'exit': the IPC channel has delivered everything by then.
    child.on('close', (code, signal) => {
      if (result !== undefined) resolve(result);
      else
        reject(
          new Error(
            `heap probe of ${kind} ended (code ${String(code)}, signal ${String(signal)}) with no result`,
          ),
        );
    });
  });
}

async function probe(valueMode: 'frozen' | 'copy', kinds: readonly string[]): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const kind of kinds) {
    // One at a time: the suite beside it has tests that time membership on a 2-core machine.
    const runs: ProbeResult[] = [];
    for (let run = 0; run < MEASUREMENTS; run++) runs.push(await probeOnce(valueMode, kind));
    runs.sort((a, b) => a.measured - b.measured);
    results.push(runs[Math.floor(MEASUREMENTS / 2)] as ProbeResult);
  }
  return results;
}

function expectWithinTolerance(results: readonly ProbeResult[], kinds: readonly string[]): void {
  expect(results).toHaveLength(kinds.length);
  for (const { kind, measured, counted } of results) {
    // A kind with nothing measured would make any count pass.
    expect(measured, kind).toBeGreaterThan(100);
    expect(
      Math.abs(counted / measured - 1),
      `${kind}: counted ${counted} B, measured ${measured} B`,
    ).toBeLessThanOrEqual(TOLERANCE);
  }
}

describe('maxBytes accounting against measured heap', () => {
  it(
    "counts what entries hold in valueMode 'frozen' (decoded values), within 20%",
    { timeout: 240_000 },
    async () => {
      const kinds = [
        'product',
        'small',
        'numbers',
        'text',
        'unicode',
        'map',
        'set',
        'order',
        'catalogue',
        'buffer',
        'lookup',
        'wide',
        'pairs',
        'cart',
        'scores',
        'symbols',
        'patterns',
        'record100',
        'record200',
        'json200',
        'jsonConstructor',
      ];
      expectWithinTolerance(await probe('frozen', kinds), kinds);
    },
  );

  it(
    "counts what entries hold in valueMode 'copy' (encoded bytes), within 20%",
    { timeout: 240_000 },
    async () => {
      const kinds = ['product', 'small', 'map', 'order', 'buffer'];
      expectWithinTolerance(await probe('copy', kinds), kinds);
    },
  );
});
