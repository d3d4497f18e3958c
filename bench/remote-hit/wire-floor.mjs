// The floor under a remote hit: the peer protocol alone, with no engine above it. A client
// `TcpPeerTransport` sends `get` requests to a server `TcpPeerTransport` (a child process) whose
// handler answers every request with the same ~1 KB encoded product, as an owner does; nothing is
// decoded. Plain TCP and mutual TLS, against ioredis `getBuffer` of the same bytes (the bare Redis
// wire, no JSON.parse), each at 1, 16 and 128 requests in flight, in interleaved rounds. A fourth
// row is the floor of any Node.js owner: a bare `node:net` server child answering each
// length-prefixed request with the same bytes (one write per socket read), a client writing a
// turn's frames in one write as the transport does, no distcache code at all. Client CPU
// per request is this process's `process.cpuUsage()`; server CPU is the child's or redis-server's
// from /proc. The distance between these rows and remote-hit.bench.mjs's is the engine's share of a
// remote get (bench/README.md, "Remote hit").
//
// Run:     npm run build -w distcache-core && node bench/remote-hit/wire-floor.mjs   # ~1 min
// Options: --rounds=3 --duration-ms=2000 --concurrency=1,16,128 --redis=127.0.0.1:6379
import { execFileSync, fork } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { serialize } from 'node:v8';
import { tcpPeerTransport } from 'distcache-core';
import { freePorts } from 'distcache-core/testing';
import Redis from 'ioredis';
import { median } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { formatRate, formatRatio, machineLine, printTable } from '../lib/report.mjs';

const VALUE = serialize(makeProduct(7));
const tlsOf = (dir) =>
  dir === undefined
    ? undefined
    : {
        ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
        cert: readFileSync(join(dir, 'node.pem'), 'utf8'),
        key: readFileSync(join(dir, 'node.key'), 'utf8'),
      };

// --- the server child: one transport, answering every get with VALUE -----------------------------
if (process.argv[2] === '--serve') {
  const { port, tlsDir } = JSON.parse(process.argv[3]);
  const server = tcpPeerTransport({
    nodeId: 'owner',
    cluster: 'wire-floor',
    host: '127.0.0.1',
    port,
    tls: tlsOf(tlsDir),
  });
  const answer = { op: 'value', result: { found: true, value: VALUE, expiresAt: 0 } };
  await server.listen(async () => answer);
  process.send('ready');
  process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
} else if (process.argv[2] === '--serve-net') {
  // The bare floor: 4-byte big-endian length, then the payload; every request answered with VALUE.
  const answer = Buffer.concat([lengthPrefix(VALUE.length), VALUE]);
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    // The client going away (the bench ending) is not this process's failure.
    socket.on('error', () => socket.destroy());
    const frames = frameReader(() => socket.write(answer));
    socket.on('data', (chunk) => {
      socket.cork();
      frames(chunk);
      socket.uncork();
    });
  });
  server.listen(JSON.parse(process.argv[3]).port, '127.0.0.1', () => process.send('ready'));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

/** Feeds chunks of a stream of length-prefixed frames; calls `onFrame` with each whole payload. */
function frameReader(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const end = 4 + pending.readUInt32BE(0);
      onFrame(pending.subarray(4, end));
      pending = pending.subarray(end);
    }
  };
}

function lengthPrefix(length) {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(length, 0);
  return prefix;
}

/**
 * A client of the bare floor. Requests made in one event-loop turn go in one write, as the peer
 * transport's frame writer sends them, so the row is a floor for it at every level; answers are
 * matched in order. A closed or failed socket fails every request still waiting.
 */
async function netClient(port) {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const waiting = [];
  let outgoing = [];
  let failure;
  const failAll = (error) => {
    failure ??= error;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('bare floor: the connection closed')));
  socket.on(
    'data',
    frameReader((payload) => waiting.shift()?.resolve(payload)),
  );
  const flush = () => {
    const frames = outgoing;
    outgoing = [];
    socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  };
  return {
    get(key) {
      if (failure !== undefined) return Promise.reject(failure);
      const body = Buffer.from(key);
      if (outgoing.length === 0) process.nextTick(flush);
      outgoing.push(lengthPrefix(body.length), body);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close: () => socket.destroy(),
  };
}

/** Resolves on the child's first message; rejects if it exits before sending one. */
function readyOf(child) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code, signal) =>
      reject(new Error(`a server child exited before it was ready (${signal ?? `code ${code}`})`)),
    );
  });
}

async function main() {
  const { numberFlag, parseFlags } = await import('../lib/cli.mjs');
  const flags = parseFlags();
  const rounds = numberFlag(flags, 'rounds', 3);
  const durationMs = numberFlag(flags, 'duration-ms', 2000);
  const levels = (typeof flags.concurrency === 'string' ? flags.concurrency : '1,16,128')
    .split(',')
    .map(Number);
  const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(
    ':',
  );
  const tempDir = mkdtempSync(join(tmpdir(), 'distcache-wire-floor-'));
  const children = [];
  const redis = new Redis({ host: redisHost, port: Number(redisPort), lazyConnect: true });
  const redisKey = `distcache-bench:wire-floor:${process.pid}`;
  let net;
  try {
    console.log(`wire-floor: ${machineLine()}`);
    makeTls(tempDir);
    const transports = {};
    for (const kind of ['tcp', 'tls']) {
      const [port] = await freePorts(1);
      const tlsDir = kind === 'tls' ? tempDir : undefined;
      const child = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify({ port, tlsDir })]);
      children.push(child);
      await readyOf(child);
      const client = tcpPeerTransport({
        nodeId: `client-${kind}`,
        cluster: 'wire-floor',
        tls: tlsOf(tlsDir),
      });
      transports[kind] = { client, peer: { host: '127.0.0.1', port }, pid: child.pid };
    }
    const [netPort] = await freePorts(1);
    const netChild = fork(fileURLToPath(import.meta.url), ['--serve-net', JSON.stringify({ port: netPort })]);
    children.push(netChild);
    await readyOf(netChild);
    net = await netClient(netPort);
    await redis.connect();
    await redis.set(redisKey, VALUE, 'EX', 600);
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    const request = (key) => ({ op: 'get', keySpace: 'kv', key, forwarded: true, extendedReply: true });
    const candidates = {
      'peer protocol, plain TCP': {
        get: (key) => transports.tcp.client.request(transports.tcp.peer, request(key), { timeoutMs: 5000 }),
        pid: transports.tcp.pid,
      },
      'peer protocol, mutual TLS': {
        get: (key) => transports.tls.client.request(transports.tls.peer, request(key), { timeoutMs: 5000 }),
        pid: transports.tls.pid,
      },
      'bare node:net request/response (no distcache code)': { get: (key) => net.get(key), pid: netChild.pid },
      'ioredis getBuffer (no JSON.parse)': { get: () => redis.getBuffer(redisKey), pid: redisPid },
    };
    const samples = [];
    for (let round = 0; round < rounds; round++) {
      for (const concurrency of levels) {
        for (const [name, candidate] of Object.entries(candidates).sort(() => Math.random() - 0.5)) {
          samples.push({ round, concurrency, name, ...(await measure(candidate, concurrency, durationMs)) });
        }
      }
    }
    const rows = [];
    for (const concurrency of levels) {
      for (const name of Object.keys(candidates)) {
        const mine = samples.filter((s) => s.name === name && s.concurrency === concurrency);
        const ratio = median(
          mine.map((s) => {
            const reference = samples.find(
              (r) => r.round === s.round && r.concurrency === concurrency && r.name.startsWith('ioredis'),
            );
            return s.opsPerSecond / reference.opsPerSecond;
          }),
        );
        rows.push({
          'in flight': String(concurrency),
          candidate: name,
          'req/s': formatRate(median(mine.map((s) => s.opsPerSecond))),
          'p50 µs': median(mine.map((s) => s.p50Us)).toFixed(0),
          'client CPU µs/req': median(mine.map((s) => s.clientCpuUs)).toFixed(2),
          'server CPU µs/req': median(mine.map((s) => s.serverCpuUs)).toFixed(2),
          'vs ioredis getBuffer': formatRatio(ratio),
        });
      }
    }
    console.log(
      `${rounds} rounds x ${durationMs} ms per candidate and level, interleaved; medians over rounds\n`,
    );
    printTable(rows, { align: { 'in flight': 'right', candidate: 'left' } });
  } finally {
    await redis.del(redisKey).catch(() => undefined);
    redis.disconnect();
    net?.close();
    for (const child of children) child.kill();
    rmSync(tempDir, { recursive: true, force: true });
  }
  process.exit(0);
}

/** N workers, each awaiting one request at a time; 300 ms warm-up, then `durationMs` counted. */
async function measure({ get, pid }, concurrency, durationMs) {
  const state = { stop: false, recording: false, completed: 0 };
  const latencies = [];
  const worker = async () => {
    for (let i = 0; !state.stop; i++) {
      const started = performance.now();
      await get(`product:${i & 4095}`);
      if (state.recording) {
        state.completed++;
        if (latencies.length < 1e6) latencies.push(performance.now() - started);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(300);
  state.recording = true;
  const start = performance.now();
  const clientCpu = process.cpuUsage();
  const serverCpu = cpuMicros(pid);
  await sleep(durationMs);
  state.recording = false;
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(clientCpu);
  const serverUsed = cpuMicros(pid) - serverCpu;
  state.stop = true;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  return {
    opsPerSecond: (state.completed / elapsed) * 1e3,
    p50Us: latencies[latencies.length >> 1] * 1e3,
    clientCpuUs: (user + system) / state.completed,
    serverCpuUs: serverUsed / state.completed,
  };
}

/** CPU microseconds a process has used so far (Linux /proc, 100 ticks per second). */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4;
}

/** A throwaway CA and one node certificate (SAN IP:127.0.0.1), as remote-hit.bench.mjs makes them. */
function makeTls(dir) {
  const openssl = (command) => execFileSync('openssl', command.split(' '), { cwd: dir, stdio: 'pipe' });
  const ecKey = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  openssl(
    `req -x509 ${ecKey} -keyout ca.key -out ca.pem -days 2 -subj /CN=wire-floor-ca ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(`req ${ecKey} -keyout node.key -out node.csr -subj /CN=wire-floor-node`);
  writeFileSync(
    join(dir, 'node.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n',
  );
  openssl(
    'x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2 -extfile node.ext',
  );
}
