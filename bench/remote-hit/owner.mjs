// The owner process of the remote-hit scenario (forked by remote-hit.bench.mjs): one engine per
// transport (plain TCP and mutual TLS, two separate two-node clusters), nothing else. It serves
// the client's GET requests from its cache; its data source only counts calls (the keys are put
// before timing starts, so it should never be called while the client measures).
import { readFileSync } from 'node:fs';
import { DistCacheEngine, rawCodec, staticDiscovery } from 'distcache-core';
import { makeProduct } from '../lib/product.mjs';

const config = JSON.parse(process.argv[2]);
let sourceCalls = 0;

function createEngine(cluster) {
  return new DistCacheEngine({
    nodeName: `owner-${cluster.kind}`,
    cluster: `remote-hit-${cluster.kind}`,
    host: '127.0.0.1',
    port: cluster.ownerPort,
    discovery: staticDiscovery({
      peers: [`127.0.0.1:${cluster.ownerPort}`, `127.0.0.1:${cluster.clientPort}`],
    }),
    tls:
      cluster.kind === 'tls'
        ? {
            ca: readFileSync(config.tls.ca, 'utf8'),
            cert: readFileSync(config.tls.cert, 'utf8'),
            key: readFileSync(config.tls.key, 'utf8'),
          }
        : undefined,
    clusterOptions: { hotTtl: 0 },
    keySpaces: [
      {
        name: 'kv',
        maxBytes: 256 << 20,
        dataSource: async (key) => {
          sourceCalls++;
          return makeProduct(Number(key.slice(key.indexOf(':') + 1)));
        },
      },
      { name: 'raw', maxBytes: 256 << 20, codec: rawCodec() },
    ],
  });
}

const engines = config.clusters.map((cluster) => ({ kind: cluster.kind, engine: createEngine(cluster) }));
await Promise.all(engines.map(({ engine }) => engine.start()));
process.send({ type: 'ready' });

process.on('message', async (message) => {
  if (message.type === 'stats') {
    process.send({
      type: 'stats',
      sourceCalls,
      engines: engines.map(({ kind, engine }) => {
        const { kv, raw } = engine.stats().keySpaces;
        return { kind, served: kv.peerRequestsServed + raw.peerRequestsServed };
      }),
    });
  } else if (message.type === 'stop') {
    await Promise.all(engines.map(({ engine }) => engine.stop()));
    process.send({ type: 'stopped' }, () => process.disconnect());
  }
});
// Without the parent there is nothing to serve: leave (this also ends an orphan after a crash).
process.on('disconnect', () => {
  void Promise.all(engines.map(({ engine }) => engine.stop())).finally(() => process.exit(0));
});
