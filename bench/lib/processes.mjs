// Child processes for the multi-process scenarios (one distcache node per process, as deployed):
// forking with a JSON config, waiting for typed IPC messages, stopping what was started, and the
// CPU time a process (a node, or redis-server) has used, read from /proc.
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Waits for the next IPC message `{ type }` from `child`; rejects if the child exits first.
 * @returns {Promise<Record<string, unknown>>}
 */
export function nextMessage(child, type, label = 'a child process') {
  return new Promise((resolveMessage, reject) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolveMessage(message);
    };
    const onExit = (code, signal) =>
      reject(new Error(`${label} exited (${signal ?? code}) before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * A set of forked children that `stopAll` (or a Ctrl-C) ends. Each child gets its config as one
 * JSON argument and talks over IPC.
 */
export function childGroup() {
  const children = new Set();
  return {
    /**
     * Forks `script` with `config`; `execArgv` adds Node flags (e.g. `--expose-gc`).
     * @returns {{ child: import('node:child_process').ChildProcess, next: (type: string) => Promise<any>,
     *   send: (message: object) => void, exited: Promise<number | null> }}
     */
    start(script, config, { execArgv = [], label = script } = {}) {
      const child = fork(script, [JSON.stringify(config)], { execArgv, stdio: 'inherit' });
      children.add(child);
      const exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
      return {
        child,
        exited,
        next: (type) => nextMessage(child, type, label),
        send: (message) => child.send(message),
      };
    },
    /** Kills every child still running (SIGTERM). */
    killAll() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/**
 * Runs `cleanup` on Ctrl-C or SIGTERM before exiting with status 130, so children are stopped and
 * Redis keys deleted even when a run is interrupted.
 */
export function cleanupOnSignal(cleanup) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      void Promise.resolve()
        .then(cleanup)
        .finally(() => process.exit(130));
    });
  }
}

let ticksPerSecond;
/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux by default). */
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU microseconds (user + system) that process `pid` has used so far, from /proc (Linux), or
 * undefined when /proc cannot tell. Resolution is one clock tick (10 ms), so measure over seconds.
 */
export function cpuMicros(pid) {
  if (pid === undefined || !Number.isInteger(pid)) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1e6;
  } catch {
    return undefined;
  }
}

/** The pid of the Redis server an ioredis client is connected to (from `INFO server`). */
export async function redisServerPid(redis) {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
