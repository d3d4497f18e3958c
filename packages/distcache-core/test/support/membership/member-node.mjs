// One cluster node in its own process for the membership-under-load scenarios (issue 14), driven
// by its parent over IPC (test/support/membership/member-cluster.mjs). It runs the built package
// (what users install) and measures, inside the node, what the parent cannot see from outside:
// data-source calls, entries dropped (decreases of `items` that evictions and expiries do not
// explain, sampled every 10 ms), peer events, warnings logged, and the load it generates itself
// (open loop or closed loop with many requests in flight, as the application would).
//
// Config: env DISTCACHE_MEMBER (JSON), see member-cluster.mjs `MemberOptions`.
import { performance } from 'node:perf_hooks';
import { DistCacheEngine, staticDiscovery } from 'distcache-core';
import { adminServer } from 'distcache-core/admin';
import { seededRandom } from '../random.mjs';

const config = JSON.parse(process.env.DISTCACHE_MEMBER ?? '{}');
/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
const epochNow = () => performance.timeOrigin + performance.now();

let sourceCalls = 0;
const pad = 'x'.repeat(config.valueBytes ?? 100);

// Source calls answered by the parent (one versioned database for the cluster), by call id.
const parentCalls = new Map();
let nextParentCall = 0;
const askParent = (key, signal) =>
  new Promise((resolve, reject) => {
    const sid = ++nextParentCall;
    const abort = () => {
      parentCalls.delete(sid);
      reject(signal.reason);
    };
    parentCalls.set(sid, { resolve, reject, abort });
    signal.addEventListener('abort', abort, { once: true });
    process.send({ source: { sid, key } });
  });

const warnings = [];
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => warnings.push({ at: epochNow(), level: 'warn', message }),
  error: (message) => warnings.push({ at: epochNow(), level: 'error', message }),
};

const engine = new DistCacheEngine({
  nodeName: config.name,
  host: '127.0.0.1',
  port: config.port,
  cluster: config.cluster,
  discovery: staticDiscovery({ peers: config.peers }),
  clusterOptions: config.clusterOptions,
  logger,
  keySpaces: [
    {
      name: 'products',
      maxBytes: 512 << 20,
      ...config.keySpace,
      dataSource: async (key, { signal }) => {
        sourceCalls += 1;
        if (config.sourceFromParent) return askParent(key, signal);
        return { id: key, version: 0, pad };
      },
    },
  ],
});

// Peer events, and when this node first saw the whole expected ring.
const peerEvents = [];
let ringCompleteAt;
const noteRing = () => {
  if (ringCompleteAt === undefined && config.expectMembers !== undefined) {
    if (engine.stats().members >= config.expectMembers) ringCompleteAt = epochNow();
  }
};
engine.on('peer', (event) => {
  peerEvents.push({ at: epochNow(), type: event.type, peer: event.peer.id, reason: event.reason });
  noteRing();
});

// Entries dropped: decreases of `items` between two samples, less what evictions and expiries
// explain (the scenarios that use this write nothing, so nothing else removes entries).
let dropped = 0;
let dropEvents = 0;
let sampleTimer;
let last;
const sample = () => {
  const stats = engine.stats().keySpaces.products;
  if (stats === undefined) return;
  const now = { items: stats.items, removed: stats.evictions + stats.expirations };
  if (last !== undefined) {
    const lost = last.items - now.items - (now.removed - last.removed);
    if (lost > 0) {
      dropped += lost;
      // A "drop everything": at least half of what the node held, gone between two samples.
      if (last.items >= 100 && lost >= last.items / 2) dropEvents += 1;
    }
  }
  last = now;
};

const describeError = (error) => ({
  code: error?.code ?? 'E_UNKNOWN',
  message: String(error?.message ?? error),
});
const countError = (errors, error) => {
  const code = error?.code ?? 'E_UNKNOWN';
  errors[code] = (errors[code] ?? 0) + 1;
};

// Load generated inside this node (the application's own requests).
let load;
const random = seededRandom(config.seed ?? 1);
const pick = (keys) => keys[Math.floor(random() * keys.length)];

function oneRequest(spec, outcome) {
  const many = random() < (spec.getManyShare ?? 0);
  const request = many
    ? engine.getMany(
        'products',
        Array.from({ length: spec.batch ?? 100 }, () => pick(spec.keys)),
      )
    : engine.get('products', pick(spec.keys));
  return request.then(
    () => {
      outcome.ok += 1;
    },
    (error) => {
      outcome.failed += 1;
      countError(outcome.errors, error);
    },
  );
}

function startLoad(spec) {
  const outcome = { ok: 0, failed: 0, errors: {}, startedAt: epochNow(), endedAt: undefined };
  const state = { spec, outcome, running: true, inFlight: new Set(), timer: undefined };
  const track = (promise) => {
    state.inFlight.add(promise);
    void promise.finally(() => state.inFlight.delete(promise));
  };
  if (spec.inFlight !== undefined) {
    // Closed loop: `inFlight` workers, each sending its next request when the last one ended.
    // Each waits for the next event-loop turn first, as a request arriving from a socket would:
    // a hit resolves in microtasks only, and a loop of those would starve timers, sockets and IPC.
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const worker = async () => {
      while (state.running) {
        const request = oneRequest(spec, outcome);
        track(request);
        await request;
        await nextTurn();
      }
    };
    for (let i = 0; i < spec.inFlight; i += 1) void worker();
  } else {
    // Open loop at `perSecond`, re-aimed at the schedule after a late tick.
    const tickMs = Math.max(10, 1_000 / spec.perSecond);
    const started = performance.now();
    let sent = 0;
    const tick = () => {
      if (!state.running) return;
      const due = Math.floor(((performance.now() - started) * spec.perSecond) / 1_000);
      for (; sent < due; sent += 1) track(oneRequest(spec, outcome));
      state.timer = setTimeout(tick, tickMs);
    };
    state.timer = setTimeout(tick, tickMs);
  }
  return state;
}

async function stopLoad(state) {
  state.running = false;
  clearTimeout(state.timer);
  await Promise.allSettled([...state.inFlight]);
  state.outcome.endedAt = epochNow();
  return state.outcome;
}

const commands = {
  get: async ({ key }) => engine.get('products', key),
  getMany: async ({ keys }) => Object.fromEntries(await engine.getMany('products', keys)),
  put: async ({ key, value }) => engine.put('products', key, value),
  delete: async ({ key }) => engine.delete('products', key),
  // One operation, timed inside this process (IPC excluded), with how it ended.
  timed: async ({ op, key, value }) => {
    const started = performance.now();
    try {
      let result;
      if (op === 'get') result = await engine.get('products', key);
      else if (op === 'put') await engine.put('products', key, value);
      else await engine.delete('products', key);
      return { ms: performance.now() - started, value: result };
    } catch (error) {
      return { ms: performance.now() - started, error: describeError(error) };
    }
  },
  // Reads every key once, `batch` keys per getMany, `parallel` batches at a time.
  warm: async ({ keys, batch = 100, parallel = 4 }) => {
    const batches = [];
    for (let i = 0; i < keys.length; i += batch) batches.push(keys.slice(i, i + batch));
    const errors = {};
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const slice = batches[next++];
        await engine.getMany('products', slice).catch((error) => countError(errors, error));
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return { batches: batches.length, errors };
  },
  // Blocks the event loop synchronously: a GC pause, a long synchronous task, a starved container.
  block: async ({ ms }) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // busy
    }
    return ms;
  },
  startLoad: async (spec) => {
    if (load !== undefined) throw new Error('a load is running already');
    load = startLoad(spec);
    return true;
  },
  stopLoad: async () => {
    if (load === undefined) return undefined;
    const outcome = await stopLoad(load);
    load = undefined;
    return outcome;
  },
  figures: async () => ({
    sourceCalls,
    dropped,
    dropEvents,
    items: engine.stats().keySpaces.products?.items ?? 0,
    members: engine.stats().members,
    peerEvents,
    ringCompleteAt,
  }),
  /** Warnings and errors logged since start whose message matches `pattern` (a RegExp source). */
  warnings: async ({ pattern }) => {
    const re = new RegExp(pattern ?? '');
    return warnings.filter((line) => re.test(line.message));
  },
  memberIds: async () =>
    engine
      .peers()
      .filter((peer) => peer.status === 'self' || peer.status === 'alive' || peer.status === 'suspect')
      .map((peer) => peer.id)
      .sort(),
  peers: async () => engine.peers(),
  stop: async () => {
    clearInterval(sampleTimer);
    await admin?.stop();
    await engine.stop();
    setImmediate(() => process.exit(0));
  },
};

// A node whose parent is gone (a test that timed out, a bench interrupted) must not run on alone.
process.on('disconnect', () => process.exit(1));

process.on('message', async (message) => {
  if (message.sourceReply !== undefined) {
    const pending = parentCalls.get(message.sourceReply);
    parentCalls.delete(message.sourceReply);
    if (pending === undefined) return;
    if (message.error !== undefined) pending.reject(new Error(message.error));
    else pending.resolve(message.value ?? undefined);
    return;
  }
  const { id, cmd, ...args } = message;
  try {
    const handler = commands[cmd];
    if (handler === undefined) throw new Error(`unknown command ${cmd}`);
    process.send({ id, result: await handler(args) });
  } catch (error) {
    process.send({ id, error: describeError(error) });
  }
});

let admin;
try {
  await engine.start();
  const startReturnedAt = epochNow();
  noteRing();
  sampleTimer = setInterval(sample, 10);
  // Cold keys read at once after start() resolved, as a service taking traffic right away does.
  const readOnStart = config.readOnStart ?? [];
  const startReads = await Promise.allSettled(readOnStart.map((key) => engine.get('products', key)));
  let adminUrl;
  if (config.admin === true) {
    admin = adminServer(engine, { host: '127.0.0.1', port: 0 });
    await admin.start();
    adminUrl = admin.url;
  }
  process.send({
    ready: true,
    startReturnedAt,
    membersAtStart: engine.stats().members,
    startReadErrors: startReads.filter((read) => read.status === 'rejected').length,
    adminUrl,
  });
} catch (error) {
  process.send({ failed: describeError(error) });
  setImmediate(() => process.exit(1));
}
