// Every script of the sample app answers --help with its usage and refuses an unknown flag with
// one line (exit 2), instead of a parseArgs stack trace. Runs the built scripts (dist/) and the
// two uncompiled demos, as `npm run <script>` does.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const scripts = {
  start: 'dist/cluster/start.js',
  serve: 'dist/main.js',
  load: 'dist/load/load.js',
  'demo:cluster': 'src/cluster-demo.mjs',
  'demo:standalone': 'src/engine-demo.mjs',
};

function run(file: string, ...args: string[]) {
  return runWith({}, file, ...args);
}

function runWith(env: Record<string, string>, file: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [file, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the sample app scripts on the command line', () => {
  it.each(Object.entries(scripts))('%s --help prints its usage and exits 0', (_name, file) => {
    const { status, stdout, stderr } = run(file, '--help');
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: npm /);
    expect(status).toBe(0);
  });

  it.each(Object.entries(scripts))('%s refuses an unknown flag in one line, exit 2', (_name, file) => {
    const { status, stdout, stderr } = run(file, '--no-such-flag');
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain("Unknown option '--no-such-flag'");
    expect(stderr).toContain('--help');
    expect(status).toBe(2);
  });

  it.each([
    [{ NODES: 'abc' }, 'NODES must be a whole number from 1 to 9, got "abc"'],
    [{ NODES: '0' }, 'NODES must be a whole number from 1 to 9, got "0"'],
    [{ SEED_PRODUCTS: 'abc' }, 'SEED_PRODUCTS must be a whole number from 1 to 10000000, got "abc"'],
    [{ DISCOVERY: 'bogus' }, 'DISCOVERY must be "static" or "nats", got "bogus"'],
  ])('start refuses %j in one line, exit 2, before starting anything', (env, message) => {
    // Before: NODES=abc printed "cluster of NaN ready" and exited 0; SEED_PRODUCTS=abc crashed with
    // a stack trace; DISCOVERY=bogus ran static discovery.
    const { status, stdout, stderr } = runWith(env, scripts.start);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(`npm start: ${message}`);
    expect(status).toBe(2);
  });

  it('serve refuses a CACHE_PEERS port out of range as typed, in its configuration check', () => {
    const { status, stderr } = runWith({ CACHE_PEERS: '127.0.0.1:3311,,127.0.0.1:99999' }, scripts.serve);
    expect(stderr.trim()).toBe(
      'catalogue: invalid configuration:\n  - CACHE_PEERS must be a comma-separated list of host:port, got "127.0.0.1:99999"',
    );
    expect(status).toBe(1);
  });

  it.each([
    // Its own check: a value that is not a number.
    ['soon', "--duration must be a positive number, got 'soon'"],
    // parseArgs's message, which ends with a period already: one period, not two.
    ['-1', "Option '--duration' argument is ambiguous"],
  ])('load names a bad --duration %j in one line', (value, problem) => {
    const { status, stderr } = run(scripts.load, '--duration', value);
    expect(stderr.trim()).toBe(
      `npm run load -w sample-app: ${problem}. \`npm run load -w sample-app -- --help\` shows the usage.`,
    );
    expect(status).toBe(2);
  });
});
