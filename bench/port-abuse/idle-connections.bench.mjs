// Port abuse, idle connections: an attacker opens many connections to one node's peer port from
// other addresses, completes the handshake on each and then sends nothing, while the node's two
// real peers keep reading keys it owns. Reports how many the node admitted (maxConnections,
// maxConnectionsPerAddress), when it closed the admitted ones (idleTimeout: GOAWAY, then close after
// the handshake timeout since the attacker ignores it), its descriptors and RSS, and the peers'
// latency. Acceptance (issue 15): 10,000 idle connections -> capped or closed within the idle timeout.
import {
  peerReads,
  processFigures,
  sampleRss,
  scenarioFlags,
  sleep,
  startAttacker,
  startCluster,
  table,
} from './lib.mjs';

const flags = scenarioFlags(
  { connections: 10_000, sources: 40, 'idle-timeout-s': 60, 'baseline-s': 3 },
  `
Usage: node bench/port-abuse/idle-connections.bench.mjs [--connections=10000] [--sources=40]
       [--idle-timeout-s=60] [--baseline-s=3]
Starts a 3-node cluster (child processes), opens --connections handshaken, silent connections to the
first node's peer port from 127.0.0.2.. (--sources addresses), and waits past the victim's
idleTimeout (--idle-timeout-s, default the library default of 60 s) while its peers read through it.
The attacker process needs about --connections descriptors (Node raises its soft limit to the hard one).
Build first: npm run build -w distcache-core`,
);

const idleTimeoutMs = flags['idle-timeout-s'] * 1000;
const cluster = await startCluster({ victimTransport: { idleTimeout: idleTimeoutMs } });
try {
  const [victim] = cluster.nodes;
  const reads = [...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'before'))];
  const before = processFigures(victim.child.pid);
  const stopSampling = sampleRss(victim.child.pid, 200);
  const attackStarted = performance.now();
  const attacker = await startAttacker({
    mode: 'idle',
    port: victim.port,
    connections: flags.connections,
    sourceCount: flags.sources,
  });
  const openedAt = performance.now();
  const openedMs = openedAt - attackStarted;
  await sleep(3000); // let the handshakes and the refusals settle
  const admitted = await attacker.report();
  const during = processFigures(victim.child.pid);
  // Reads until the last admitted connection passed the idle timeout, the GOAWAY linger (2 s) and
  // two sweeps of 0.5 s.
  const waitMs = Math.max(1000, idleTimeoutMs + 3500 - (performance.now() - openedAt));
  reads.push(...(await peerReads(cluster.nodes, waitMs, 'during the attack')));
  const closed = await attacker.report();
  const peak = stopSampling();
  const after = processFigures(victim.child.pid);
  await attacker.close();
  reads.push(...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'after')));

  console.log(
    `\nidle connections: ${flags.connections} from ${flags.sources} addresses, victim idleTimeout ${flags['idle-timeout-s']} s, ${new Date().toISOString()}`,
  );
  const delays = closed.closeDelayMs;
  table('What the attacker saw', [
    {
      attempted: admitted.attempted,
      'connect failed': admitted.connectFailed,
      'closed before WELCOME (caps)': admitted.closedBeforeWelcome,
      'welcomed (admitted)': admitted.welcomed,
      'open 3 s after the last connect': admitted.open,
      'GOAWAY received': closed.goAway,
      'closed by the node after WELCOME': closed.closedByNode,
      'close after WELCOME min / p50 / max s': delays
        ? `${(delays.min / 1000).toFixed(1)} / ${(delays.p50 / 1000).toFixed(1)} / ${(delays.max / 1000).toFixed(1)}`
        : '-',
      'still open at the end': closed.open,
      'all connects in ms': openedMs.toFixed(0),
    },
  ]);
  table('Victim', [
    {
      'fds before': before.fds,
      'fds during': during.fds,
      'fds after the idle timeout': after.fds,
      'RSS before MiB': before.rssMiB.toFixed(0),
      'RSS peak MiB': Math.max(peak, after.peakMiB).toFixed(0),
    },
  ]);
  table('Real peers reading keys the victim owns (hotTtl 0)', reads);
  const logs = await victim.call('logs');
  console.log(`\nvictim log: ${logs.warn} warnings, ${logs.error} errors; first lines:`);
  for (const line of logs.first.slice(0, 8)) console.log(`  ${line}`);
} finally {
  await cluster.stop();
}
