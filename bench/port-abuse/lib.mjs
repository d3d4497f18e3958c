// Shared pieces of the port-abuse scenarios: a real 3-node cluster as child processes (the victim
// optionally behind a lower `ulimit -n`), an attacker process, the peers' reads during an attack,
// the victim's memory and descriptors read from /proc, and strict command-line flags.
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const NODE = fileURLToPath(new URL('./node.mjs', import.meta.url));
const ATTACKER = fileURLToPath(new URL('./attacker.mjs', import.meta.url));

/**
 * Parses `--name=value` flags against `defaults` (numbers or strings). `--help` prints `usage` and
 * exits 0; an unknown flag or a bad number prints one line and exits 2.
 */
export function scenarioFlags(defaults, usage) {
  const flags = { ...defaults };
  for (const arg of process.argv.slice(2)) {
    if (arg === '--help' || arg === '-h') {
      console.log(usage.trim());
      process.exit(0);
    }
    const match = /^--([a-z-]+)=(.+)$/.exec(arg);
    if (match === null || !(match[1] in defaults)) {
      console.error(`unknown argument "${arg}" (see --help)`);
      process.exit(2);
    }
    const [, name, raw] = match;
    if (typeof defaults[name] === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) {
        console.error(`--${name} must be a non-negative number, got "${raw}"`);
        process.exit(2);
      }
      flags[name] = value;
    } else flags[name] = raw;
  }
  return flags;
}

/** Free loopback ports. */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve) => {
          const server = net.createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Starts one node process; `ulimit` runs it behind `bash -c 'ulimit -n N; exec node ...'`. */
function startNode(name, port, peers, { transport, ulimit } = {}) {
  const env = { ...process.env, PORT_ABUSE_NODE: JSON.stringify({ name, port, peers, transport }) };
  const child =
    ulimit === undefined
      ? fork(NODE, [], { env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
      : spawn('bash', ['-c', `ulimit -n ${ulimit} && exec "${process.execPath}" "${NODE}"`], {
          env,
          stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        });
  const stderr = [];
  child.stderr.on('data', (chunk) => {
    stderr.push(chunk);
    if (process.env.PORT_ABUSE_VERBOSE) process.stderr.write(chunk);
  });
  let nextId = 0;
  const waiting = new Map();
  const ready = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.ready) return resolve();
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.result);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${Buffer.concat(stderr)}`)));
  });
  return {
    name,
    port,
    id: `127.0.0.1:${port}`,
    child,
    ready,
    /** Log lines the node printed (warnings and errors). */
    stderrText: () => Buffer.concat(stderr).toString(),
    call(cmd, args = {}, timeoutMs = 120_000) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: "${cmd}" timed out`)), timeoutMs);
        waiting.set(id, {
          resolve: (value) => (clearTimeout(timer), resolve(value)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        child.send({ id, cmd, ...args });
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * A 3-node cluster: `nodes[0]` is the victim (its transport options and descriptor limit are the
 * scenario's), the two others are its real peers.
 */
export async function startCluster({ victimTransport, victimUlimit } = {}) {
  const ports = await freePorts(3);
  const peersOf = (i) => ports.filter((_, j) => j !== i);
  const nodes = [
    startNode('victim', ports[0], peersOf(0), { transport: victimTransport, ulimit: victimUlimit }),
    startNode('peer-1', ports[1], peersOf(1)),
    startNode('peer-2', ports[2], peersOf(2)),
  ];
  await Promise.all(nodes.map((node) => node.ready));
  await waitForMembers(nodes, 3, 20_000);
  return {
    nodes,
    ports,
    /** Starts node `i` again (same name and port) after it was killed. */
    restart(i) {
      const { name } = nodes[i];
      nodes[i] = startNode(
        name,
        ports[i],
        peersOf(i),
        i === 0 ? { transport: victimTransport, ulimit: victimUlimit } : {},
      );
      return nodes[i];
    },
    async stop() {
      await Promise.allSettled(nodes.map((node) => node.call('stop', {}, 5000)));
      await sleep(200);
      for (const node of nodes) node.kill();
    },
  };
}

/** Waits until each of `nodes` sees `size` members; resolves with the time it took (ms). */
export async function waitForMembers(nodes, size, timeoutMs) {
  const started = performance.now();
  for (;;) {
    const members = await Promise.all(nodes.map((node) => node.call('members').catch(() => -1)));
    if (members.every((m) => m === size)) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`members ${members.join('/')} instead of ${size} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The real peers read the victim's keys for `durationMs`; one row per peer. */
export async function peerReads(nodes, durationMs, phase) {
  const victim = nodes[0];
  const results = await Promise.all(
    nodes.slice(1).map((node) => node.call('read', { owner: victim.id, durationMs, concurrency: 4 })),
  );
  return results.map((result, i) => ({
    phase,
    reader: nodes[i + 1].name,
    gets: result.ops,
    'p50 ms': result.p50?.toFixed(2) ?? '-',
    'p99 ms': result.p99?.toFixed(2) ?? '-',
    'max ms': result.max?.toFixed(1) ?? '-',
    errors:
      Object.entries(result.errors)
        .map(([code, n]) => `${code} x${n}`)
        .join(', ') || 'none',
  }));
}

/** RSS now and peak (VmHWM) of a process, in MiB, and its open descriptors. */
export function processFigures(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  let fds = NaN;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // the process is gone
  }
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024, fds };
}

/** Samples the RSS of `pid` every `everyMs` until the returned stop() is called; resolves the peak. */
export function sampleRss(pid, everyMs = 50) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, processFigures(pid).rssMiB);
    } catch {
      // the process is gone
    }
  }, everyMs);
  return () => (clearInterval(timer), peak);
}

/**
 * Starts the attacker against `port`; resolves once every connection was attempted. Its sources are
 * 127.0.0.2 and up: another host as far as the victim can tell (its peers dial from 127.0.0.1).
 */
export async function startAttacker(config) {
  const sources = Array.from({ length: config.sourceCount ?? 1 }, (_, i) => `127.0.0.${i + 2}`);
  const child = fork(
    ATTACKER,
    [JSON.stringify({ host: '127.0.0.1', cluster: 'distcache', sources, ...config })],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the attacker exited (${code})`)));
    });
  const opened = await next('opened');
  return {
    opened,
    report: () => (child.send({ cmd: 'report' }), next('report')),
    async close() {
      child.send({ cmd: 'close' });
      await next('closed');
      child.kill();
    },
  };
}

/** Prints rows as a Markdown table. */
export function table(title, rows) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  console.log(`\n${title}\n`);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`| ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${columns.map((c) => String(row[c] ?? '')).join(' | ')} |`);
}

export { sleep };
