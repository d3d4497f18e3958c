// The codec-alternatives scenario runs end to end with tiny batches: every value gets its table,
// the fidelity table marks what each candidate loses, and a trial run writes no results file.
// Speed is not asserted here (bench/README.md records it).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

describe('codec/alternatives.bench.mjs', () => {
  const { status, stdout, stderr } = spawnSync(
    process.execPath,
    ['codec/alternatives.bench.mjs', '--rounds=1', '--sample-ms=1', '--warmup-ms=1', '--no-results'],
    { cwd: benchDir, encoding: 'utf8', timeout: 25_000 },
  );
  const row = (codec) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith(`| ${codec} `))
      .map((line) => line.split('|').map((cell) => cell.trim()));

  it('runs with short flags and writes no results on a trial run', () => {
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('results: not written (--no-results)');
  });

  it('prints one table per value, with every candidate in each', () => {
    for (const title of ['~1 KB bench product', 'small record', 'Map, Set, BigInt, typed arrays'])
      expect(stdout).toContain(title);
    for (const codec of [
      'V8 format (node:v8)',
      'distcache structuredCodec() (default)',
      'msgpackr, records on',
      'msgpackr, records off',
      'cbor-x',
      'msgpackr, shared structures (not usable)',
    ])
      expect(row(codec)).toHaveLength(4); // three value tables and the fidelity table
  });

  it('gives the reference full fidelity and marks a candidate that loses Maps', () => {
    for (const reference of ['V8 format (node:v8)', 'distcache structuredCodec() (default)']) {
      const [fidelity] = row(reference).slice(-1);
      expect(fidelity.slice(2, -1).every((cell) => cell === 'yes')).toBe(true);
    }
    const mapsValue = row('msgpackr, records off')[2].join('|'); // its row for the Map, Set, ... value
    expect(mapsValue).toContain('LOSES Map');
    expect(mapsValue).toContain('DIFFERS');
  });
});
