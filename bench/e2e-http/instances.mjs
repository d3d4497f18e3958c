// The bench app's processes: compiling the Nest app (app/, TypeScript with decorator metadata) when
// its sources are newer than its build, and forking, querying and stopping the three instances of a
// variant.
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, 'app');
const appMain = join(appDir, 'dist', 'main.js');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

/** Compiles app/ with the workspace's TypeScript unless dist/ is newer than every source file. */
export function ensureAppBuilt() {
  const sourceTime = Math.max(newestMtime(join(appDir, 'src')), newestMtime(join(appDir, 'tsconfig.json')));
  let builtTime = 0;
  try {
    builtTime = statSync(appMain).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtTime > sourceTime) return false;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const { status } = spawnSync(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  if (status !== 0)
    throw new Error(
      'compiling bench/e2e-http/app failed (build the packages first: npm run build at the repository root)',
    );
  return true;
}

/** Waits for the next message of `type` from `child`; rejects if it exits first or after `ms`. */
function next(child, type, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no "${type}" from instance ${child.pid} in ${ms} ms`)),
      ms,
    );
    const onMessage = (message) => {
      if (message?.type === type) done(undefined, message);
    };
    const onExit = (code, signal) =>
      done(new Error(`instance ${child.pid} exited (${signal ?? code}) before "${type}"`));
    function done(error, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error === undefined) resolve(message);
      else reject(error);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Forks one instance per config and waits until all are ready.
 * @param {object[]} configs InstanceConfig of each instance (see app/src/config.ts)
 * @param {{ cpuProfDir?: string, registry: Set<import('node:child_process').ChildProcess> }} options
 *   `registry` receives the children, so that an interrupted run can kill them.
 */
export async function startInstances(configs, { cpuProfDir, registry }) {
  const execArgv = [];
  if (cpuProfDir !== undefined) {
    mkdirSync(cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  }
  const children = configs.map((config) => {
    const child = fork(appMain, [JSON.stringify(config)], { stdio: 'inherit', execArgv });
    registry.add(child);
    child.once('exit', () => registry.delete(child));
    return child;
  });
  try {
    await Promise.all(children.map((child) => next(child, 'ready')));
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    throw error;
  }
  return {
    /** Counters of every instance (cumulative since it started). */
    stats: () =>
      Promise.all(
        children.map((child) => {
          const reply = next(child, 'stats', 10_000);
          child.send({ type: 'stats' });
          return reply;
        }),
      ),
    /** Closes every instance's Nest app and waits for the processes to end. */
    stop: () =>
      Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.send({ type: 'stop' });
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      ),
  };
}
