// Port abuse, huge frames: an attacker completes the handshake on many connections to one node's
// peer port and streams frames of the largest accepted size on each, while the node's two real
// peers keep reading keys it owns. Reports the victim's RSS (sampled peak and the kernel's VmHWM),
// what the attacker saw, and the peers' latency before, during and after the attack.
// Acceptance (issue 15): 300 connections x 8 MiB frames -> victim RSS peak <= 600 MiB.
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
  { connections: 300, 'frame-mib': 8, 'attack-s': 15, 'baseline-s': 3, sources: 10 },
  `
Usage: node bench/port-abuse/big-frames.bench.mjs [--connections=300] [--frame-mib=8] [--attack-s=15]
       [--baseline-s=3] [--sources=10]
Starts a 3-node cluster (child processes, default transport limits), attacks the first node's peer
port from 127.0.0.2.. (--sources addresses) with --connections handshaken connections each streaming
frames of --frame-mib MiB, and reports the victim's RSS peak and the peers' read latency.
Build first: npm run build -w distcache-core`,
);

const cluster = await startCluster();
try {
  const [victim] = cluster.nodes;
  const reads = [...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'before'))];
  const before = processFigures(victim.child.pid);
  const stopSampling = sampleRss(victim.child.pid);
  const attackStarted = performance.now();
  const attacker = await startAttacker({
    mode: 'big-frames',
    port: victim.port,
    connections: flags.connections,
    frameBytes: flags['frame-mib'] * 1024 * 1024,
    sourceCount: flags.sources,
  });
  const openedMs = performance.now() - attackStarted;
  reads.push(...(await peerReads(cluster.nodes, flags['attack-s'] * 1000, 'during the attack')));
  const seen = await attacker.report();
  const peak = stopSampling();
  const after = processFigures(victim.child.pid);
  await attacker.close();
  reads.push(...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'after')));

  console.log(
    `\nbig frames: ${flags.connections} connections x ${flags['frame-mib']} MiB frames, ${new Date().toISOString()}`,
  );
  table('Victim memory (MiB)', [
    {
      'RSS before': before.rssMiB.toFixed(0),
      'RSS peak (sampled every 50 ms)': peak.toFixed(0),
      'VmHWM (kernel peak)': after.peakMiB.toFixed(0),
      'RSS at the end of the attack': after.rssMiB.toFixed(0),
      'acceptance <= 600': after.peakMiB <= 600 ? 'yes' : 'NO',
    },
  ]);
  table('What the attacker saw', [
    {
      attempted: seen.attempted,
      'connect failed': seen.connectFailed,
      welcomed: seen.welcomed,
      'closed by the node': seen.closedByNode,
      'closed before WELCOME': seen.closedBeforeWelcome,
      'still open': seen.open,
      'opened in ms': openedMs.toFixed(0),
    },
  ]);
  table('Real peers reading keys the victim owns (hotTtl 0: every get crosses its peer port)', reads);
  const logs = await victim.call('logs');
  console.log(`\nvictim log: ${logs.warn} warnings, ${logs.error} errors; first lines:`);
  for (const line of logs.first.slice(0, 8)) console.log(`  ${line}`);
} finally {
  await cluster.stop();
}
