// Port abuse, descriptor exhaustion: the victim runs behind a low `ulimit -n`; an attacker holds
// more handshaken connections to its peer port than it has descriptors (from several addresses, so
// the per-address cap is not what stops them). Meanwhile the victim's real peers keep reading, and
// one of them is killed and restarted (it cannot get in while the descriptors are gone). Then the
// attacker hangs up, and the scenario measures how long until the restarted peer is a member again
// on every node. Also shows what the victim logged. Acceptance (issue 15): at EMFILE, a restarted
// peer rejoins within 5 s after the attacking connections close; the EMFILE is logged once, clearly.
import {
  peerReads,
  processFigures,
  scenarioFlags,
  sleep,
  startAttacker,
  startCluster,
  table,
  waitForMembers,
} from './lib.mjs';

const flags = scenarioFlags(
  { ulimit: 256, connections: 600, sources: 10, 'refill-ms': 200, 'attack-s': 6, 'baseline-s': 3 },
  `
Usage: node bench/port-abuse/emfile.bench.mjs [--ulimit=256] [--connections=600] [--sources=10]
       [--refill-ms=200] [--attack-s=6] [--baseline-s=3]
Starts a 3-node cluster whose first node runs under \`ulimit -n\` --ulimit, exhausts its descriptors
with --connections handshaken idle connections from 127.0.0.2.. (--sources addresses), each one
the node closes opened again after --refill-ms (0: never), kills and
restarts another node during the attack, closes the attack and times the restarted node's rejoin.
Build first: npm run build -w distcache-core`,
);

const cluster = await startCluster({ victimUlimit: flags.ulimit });
try {
  const victim = cluster.nodes[0];
  const reads = [...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'before'))];
  const before = processFigures(victim.child.pid);
  const attacker = await startAttacker({
    mode: 'idle',
    port: victim.port,
    connections: flags.connections,
    sourceCount: flags.sources,
    refillMs: flags['refill-ms'],
  });
  await sleep(2000);
  const during = processFigures(victim.child.pid);
  const seen = await attacker.report();
  reads.push(...(await peerReads(cluster.nodes, flags['attack-s'] * 1000, 'at EMFILE')));

  // A peer restarts while the victim has no descriptor to accept it with.
  cluster.nodes[2].kill();
  await sleep(500);
  const restarted = cluster.restart(2);
  await restarted.ready;
  await sleep(3000);
  const membersWhileBlocked = await Promise.all(cluster.nodes.map((node) => node.call('members')));

  const closedAt = performance.now();
  await attacker.close();
  let rejoinMs;
  try {
    await waitForMembers(cluster.nodes, 3, 30_000);
    rejoinMs = performance.now() - closedAt;
  } catch (error) {
    rejoinMs = `not within 30 s (${error.message})`;
  }
  const after = processFigures(victim.child.pid);
  reads.push(...(await peerReads(cluster.nodes, flags['baseline-s'] * 1000, 'after the rejoin')));

  console.log(
    `\nEMFILE: victim ulimit -n ${flags.ulimit}, ${flags.connections} attacking connections, ${new Date().toISOString()}`,
  );
  table('Victim descriptors and the attack', [
    {
      'fds before': before.fds,
      'fds during': during.fds,
      'fds after': after.fds,
      'attacker: welcomed': seen.welcomed,
      'closed before WELCOME': seen.closedBeforeWelcome,
      'connect failed': seen.connectFailed,
      'members victim/peer-1/restarted peer-2 while blocked': membersWhileBlocked.join('/'),
      'rejoin after the attack closed (ms)': typeof rejoinMs === 'number' ? rejoinMs.toFixed(0) : rejoinMs,
      'acceptance <= 5000 ms': typeof rejoinMs === 'number' && rejoinMs <= 5000 ? 'yes' : 'NO',
    },
  ]);
  table('Real peers reading keys the victim owns (hotTtl 0)', reads);
  const logs = await victim.call('logs');
  console.log(`\nvictim log: ${logs.warn} warnings, ${logs.error} errors; lines:`);
  for (const line of logs.first.slice(0, 12)) console.log(`  ${line}`);
} finally {
  await cluster.stop();
}
