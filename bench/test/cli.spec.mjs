// Every bench script (each `npm run <script> -w bench`) answers --help with its header comment and
// refuses an unknown flag or a malformed value in one line, exit 2, before measuring anything.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const files = Object.entries(scripts)
  .filter(([name]) => name !== 'test')
  .map(([name, command]) => [name, /^node (?:--\S+ )*(\S+)$/.exec(command)?.[1]]);

const run = (file, ...args) =>
  spawnSync(process.execPath, [file, ...args], { cwd: benchDir, encoding: 'utf8', timeout: 20_000 });

describe('bench scripts on the command line', () => {
  it('covers every script of package.json', () => {
    expect(files.map(([name]) => name)).toEqual(Object.keys(scripts).filter((name) => name !== 'test'));
    expect(files.length).toBeGreaterThanOrEqual(11);
    expect(files.filter(([, file]) => file === undefined).map(([name]) => name)).toEqual([]);
  });

  it.each(files)('%s --help prints its usage (the header comment) and exits 0', (_name, file) => {
    const { status, stdout, stderr } = run(file, '--help');
    expect(stderr).toBe('');
    expect(stdout).toContain('Run:');
    expect(stdout).not.toMatch(/^\/\//m);
    expect(status).toBe(0);
  });

  it.each(files)('%s refuses an unknown flag in one line, exit 2', (_name, file) => {
    const { status, stdout, stderr } = run(file, '--no-such-flag');
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      `bench/${file}: unknown option '--no-such-flag'. \`node bench/${file} --help\` shows the usage.`,
    );
    expect(status).toBe(2);
  });

  it('names a numeric flag whose value is not a positive number', () => {
    const { status, stderr } = run('local-hit/local-hit.bench.mjs', '--rounds=many');
    expect(stderr.trim()).toBe(
      "bench/local-hit/local-hit.bench.mjs: --rounds must be a positive number, got 'many'. `node bench/local-hit/local-hit.bench.mjs --help` shows the usage.",
    );
    expect(status).toBe(2);
  });
});
