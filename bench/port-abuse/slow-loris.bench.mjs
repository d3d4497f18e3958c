// Port abuse, slow frames: an attacker completes the handshake on many connections to one node's
// peer port, announces a frame on each and trickles its body (4 KiB every 100 ms by default), while
// the node's two real peers keep reading keys it owns. Reports the victim's RSS over the attack,
// when the node closed the connections (frameTimeout, or at once when the frame does not fit the
// buffer budget), and the peers' latency.
import {
  peerReads,
  processFigures,
  sampleRss,
  scenarioFlags,
  startAttacker,
  startCluster,
  table,
} from './lib.mjs';

const flags = scenarioFlags(
  {
    connections: 500,
    'frame-kib': 8192,
    'trickle-kib': 4,
    'trickle-ms': 100,
    'attack-s': 15,
    sources: 10,
    'baseline-s': 3,
  },
  `
Usage: node bench/port-abuse/slow-loris.bench.mjs [--connections=500] [--frame-kib=8192] [--trickle-kib=4]
       [--trickle-ms=100] [--attack-s=15] [--sources=10] [--baseline-s=3]
Starts a 3-node cluster (child processes, default transport limits), opens --connections handshaken
connections to the first node's peer port from 127.0.0.2.. (--sources addresses), each announcing a
frame of --frame-kib KiB and sending --trickle-kib KiB of it every --trickle-ms ms, for --attack-s.
Build first: npm run build -w distcache-core`,
);

const cluster = await startCluster();
try {
  const [victim] = cluster.nodes;
  const reads = [...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'before'))];
  const before = processFigures(victim.child.pid);
  const stopSampling = sampleRss(victim.child.pid, 100);
  const attacker = await startAttacker({
    mode: 'slow-loris',
    port: victim.port,
    connections: flags.connections,
    frameBytes: flags['frame-kib'] * 1024,
    trickleBytes: flags['trickle-kib'] * 1024,
    trickleMs: flags['trickle-ms'],
    sourceCount: flags.sources,
  });
  reads.push(...(await peerReads(cluster.nodes, flags['attack-s'] * 1000, 'during the attack')));
  const seen = await attacker.report();
  const peak = stopSampling();
  const after = processFigures(victim.child.pid);
  await attacker.close();
  reads.push(...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'after')));

  console.log(
    `\nslow frames: ${flags.connections} connections, ${flags['frame-kib']} KiB frames at ${flags['trickle-kib']} KiB / ${flags['trickle-ms']} ms, ${new Date().toISOString()}`,
  );
  const d = seen.closeDelayMs;
  table('Victim and attacker', [
    {
      'RSS before MiB': before.rssMiB.toFixed(0),
      'RSS peak MiB': Math.max(peak, after.peakMiB).toFixed(0),
      'RSS at the end MiB': after.rssMiB.toFixed(0),
      welcomed: seen.welcomed,
      'closed by the node': seen.closedByNode,
      'close after WELCOME min / p50 / max s': d
        ? `${(d.min / 1000).toFixed(1)} / ${(d.p50 / 1000).toFixed(1)} / ${(d.max / 1000).toFixed(1)}`
        : '-',
      'still open': seen.open,
    },
  ]);
  table('Real peers reading keys the victim owns (hotTtl 0)', reads);
  const logs = await victim.call('logs');
  console.log(`\nvictim log: ${logs.warn} warnings, ${logs.error} errors; first lines:`);
  for (const line of logs.first.slice(0, 8)) console.log(`  ${line}`);
} finally {
  await cluster.stop();
}
