// Parent side of the membership scenarios (issue 14): forks member-node.mjs processes, talks to
// them over IPC, kills and restarts them on the same port. Plain ESM, so both the vitest suite
// (test/reliability/membership-*.spec.ts) and the opt-in runs (bench/membership/*.mjs) use it.
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, 'member-node.mjs');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` distinct free ports on 127.0.0.1 (all held open until each is known). */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/**
 * Forks one node. Resolves once its `start()` resolved (with the node and its ready message), or
 * rejects with `{ code, message }` of the error `start()` threw.
 * @param {string} name
 * @param {number} port
 * @param {string[]} peers
 * @param {Record<string, unknown>} options config of member-node.mjs (clusterOptions, keySpace,
 *   cluster, valueBytes, sourceFromParent, admin, readOnStart, expectMembers, seed)
 * @param {{ source?: (key: string, node: string) => unknown }} hooks
 */
export function spawnMember(name, port, peers, options = {}, hooks = {}) {
  const child = fork(SCRIPT, [], {
    env: { ...process.env, DISTCACHE_MEMBER: JSON.stringify({ name, port, peers, ...options }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map();
  child.on('message', (message) => {
    if (message.source !== undefined) return answerSource(child, name, message.source, hooks);
    if (message.id === undefined) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(message.error);
    else pending?.resolve(message.result);
  });
  child.on('exit', () => {
    for (const pending of waiting.values())
      pending.reject({ code: 'E_CHILD_EXITED', message: `${name} exited` });
    waiting.clear();
  });
  const node = {
    name,
    port,
    id: `127.0.0.1:${port}`,
    child,
    /** Sends a command; resolves with its result, rejects with `{ code, message }`. */
    call: (cmd, args = {}, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject({ code: 'E_CHILD_EXITED', message: `${name} is not running` });
        const id = ++nextId;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: "${cmd}" got no answer in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, cmd, ...args });
      }),
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
  return new Promise((resolve, reject) => {
    const onExit = (code, signal) =>
      reject({
        code: 'E_CHILD_EXITED',
        message: `${name} exited (${signal ?? code}) before start() resolved`,
      });
    child.once('exit', onExit);
    // Only the start message: a restarted node may call its data source (a peer's read routed to
    // it) before start() resolves, and that message comes first (it was taken as a failure with no
    // error: "Unknown Error: undefined" in a CI run).
    const onStart = (message) => {
      if (message.ready !== true && message.failed === undefined) return;
      child.off('message', onStart);
      child.off('exit', onExit);
      if (message.ready === true) resolve({ node, ready: message });
      else reject(message.failed);
    };
    child.on('message', onStart);
  });
}

function answerSource(child, name, call, hooks) {
  const reply = (message) => {
    if (child.connected) child.send({ sourceReply: call.sid, ...message }, () => undefined);
  };
  Promise.resolve()
    .then(() => {
      if (hooks.source === undefined) throw new Error('no source hook in the parent');
      return hooks.source(call.key, name);
    })
    .then(
      (value) => reply({ value }),
      (error) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
}

/** Polls every `ms` until `condition()` holds or `timeoutMs` passed; resolves with whether it held. */
export async function pollUntil(condition, timeoutMs, ms = 20) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await sleep(ms);
  }
}

/** True when every node in `nodes` routes to exactly the ids `ids`. */
export async function seeExactly(nodes, ids) {
  const expected = [...ids].sort().join(',');
  const views = await Promise.all(nodes.map((node) => node.call('memberIds', {}, 5_000).catch(() => [])));
  return views.every((view) => view.join(',') === expected);
}

/**
 * Starts `size` nodes named a, b, c, ... that list each other, and waits until each sees all.
 * @returns {Promise<{ nodes: any[], peers: string[], ports: number[] }>}
 */
export async function startMembers(size, options = {}, hooks = {}) {
  const ports = await freePorts(size);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const names = ports.map((_, index) => String.fromCharCode(97 + index));
  const started = await Promise.allSettled(
    ports.map((port, index) => spawnMember(names[index], port, peers, options, hooks)),
  );
  const nodes = started.filter((s) => s.status === 'fulfilled').map((s) => s.value.node);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await killMembers(nodes);
    throw new Error(`a node failed to start: ${JSON.stringify(failed.reason)}`);
  }
  if (!(await pollUntil(() => seeExactly(nodes, peers), 20_000))) {
    await killMembers(nodes);
    throw new Error(`the ${size} nodes did not see each other`);
  }
  return { nodes, peers, ports };
}

/** kill -9, and wait for the exit. */
export async function killMember(node) {
  if (!node.alive) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGCONT');
  node.child.kill('SIGKILL');
  await exited;
}

export async function killMembers(nodes) {
  await Promise.all(nodes.map((node) => killMember(node)));
}

/** Sums a numeric field of every node's `figures`. */
export async function sumFigures(nodes, field) {
  const all = await Promise.all(nodes.map((node) => node.call('figures')));
  return all.reduce((sum, figures) => sum + figures[field], 0);
}

/** `count` keys `prefix0`, `prefix1`, ... */
export const keyRange = (count, prefix = 'k') => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
