// A bare peer listener in its own process, for tests that run it under a low `ulimit -n`
// (test/transport/descriptor-exhaustion.spec.ts). It runs the built package, prints its bound
// address as the first line of stdout, then its warnings and errors, one per line.
import { tcpPeerTransport } from 'distcache-core';

const transport = tcpPeerTransport({
  nodeId: 'limited',
  cluster: 'test',
  handshakeTimeout: '30s',
  logger: {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => console.log(`warn: ${message}`),
    error: (message) => console.log(`error: ${message}`),
  },
});
const address = await transport.listen(async () => ({ op: 'pong', nodeId: 'limited' }));
console.log(JSON.stringify(address));
