// The default-codec scenario runs end to end with tiny samples: both values get their six rows,
// the default writes both in the shaped form, and a trial run writes no results file. Speed is not
// asserted here (bench/README.md records it).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

describe('codec/default-codec.bench.mjs', () => {
  const { status, stdout, stderr } = spawnSync(
    process.execPath,
    ['codec/default-codec.bench.mjs', '--rounds=1', '--sample-ms=20', '--no-results'],
    { cwd: benchDir, encoding: 'utf8', timeout: 25_000 },
  );

  it('runs with short flags and writes no results on a trial run', () => {
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('results: not written (--no-results)');
  });

  it('prints decode and encode rows of the three forms for both values', () => {
    for (const value of ['~1 KB bench product', 'small record']) {
      const rows = stdout.split('\n').filter((line) => line.startsWith(`| ${value} `));
      expect(rows.map((line) => line.split('|')[2]?.trim())).toEqual([
        'decode, V8 format',
        'decode, JSON form (until 2026-12-04)',
        'decode, default (shaped form)',
        'encode, V8 format',
        'encode, JSON.stringify + Buffer (less than the JSON form did)',
        'encode, default (shaped form)',
      ]);
    }
  });
});
