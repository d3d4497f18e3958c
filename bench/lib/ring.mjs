// Balance and key movement of distcache's consistent-hash ring (`hashRing` from distcache-core),
// shared by the ring-balance scenario (which also times it) and the scaling scenario (the computed
// part of its scaling model).
import { hashRing } from 'distcache-core';

/** Member id of node `i` in member set `set`: `10.<set>.<i/250>.<i%250+1>:3320`. */
export const ringNodeId = (i, set = 0) => `10.${set}.${Math.floor(i / 250)}.${(i % 250) + 1}:3320`;

/** Keys shaped like real cache keys: a keyspace prefix and an id, 12 to 20 characters. */
export const ringKeys = (count) => Array.from({ length: count }, (_, i) => `products:${i * 7 + 1_000}`);

let sink = 0;
/** Keeps results observable so that timing loops are not optimised away. */
export const ringSink = () => sink;

/** Best ns per call of `fn` over `inputs`, over several passes (the least disturbed one). */
export function nsPerCall(fn, inputs, minMs = 300) {
  let best = Infinity;
  const started = performance.now();
  for (let pass = 0; pass < 3 || performance.now() - started < minMs; pass++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inputs.length; i++) sink ^= fn(inputs[i]);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / inputs.length);
    if (pass >= 20) break;
  }
  return best;
}

/** Median wall-clock milliseconds of `reps` calls of `fn`. */
export function medianMs(fn, reps) {
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Measures one ring of `nodeCount` members with `virtualNodes` each over `keys`.
 *
 * - balance: keys per node (max/mean, min/mean, coefficient of variation);
 * - joins: `joins` times one node joins; keys that change owner (each must move to the joiner,
 *   checked), against the ideal 1/(n+1);
 * - leaves: `leaves` times one member leaves; keys that change owner (each must have been the
 *   leaver's, checked), against the ideal 1/n;
 * - sets: the busiest node's exact share of the hash space x n over `sets` other member sets;
 * - timing (optional): median build time and best ns per `ownerOf`.
 */
export function ringStats(
  keys,
  nodeCount,
  virtualNodes,
  { joins = 3, leaves = 0, sets = 0, timing = false } = {},
) {
  const members = Array.from({ length: nodeCount }, (_, i) => ringNodeId(i));
  const ring = hashRing(members, { virtualNodes });
  const stats = { nodes: nodeCount, virtualNodes, points: ring.pointCount };
  if (timing) {
    stats.buildMs = medianMs(
      () => hashRing(members, { virtualNodes }),
      nodeCount * virtualNodes > 20_000 ? 5 : 15,
    );
    const sample = keys.length > 200_000 ? keys.slice(0, 200_000) : keys;
    stats.ownerNs = nsPerCall((key) => ring.ownerOf(key).length, sample);
  }

  const indexOf = new Map(ring.members.map((member, i) => [member, i]));
  const counts = new Float64Array(nodeCount);
  const owner = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const index = indexOf.get(ring.ownerOf(keys[i]));
    owner[i] = index;
    counts[index]++;
  }
  const mean = keys.length / nodeCount;
  stats.maxOverMean = Math.max(...counts) / mean;
  stats.minOverMean = Math.min(...counts) / mean;
  stats.cv = Math.sqrt(counts.reduce((sum, c) => sum + (c - mean) ** 2, 0) / nodeCount) / mean;

  let movedTotal = 0;
  let movedMax = 0;
  for (let j = 0; j < joins; j++) {
    const joined = `10.1.${j}.1:3320`;
    const grown = ring.withMembers([...members, joined]);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      const now = grown.ownerOf(keys[i]);
      if (now !== ring.members[owner[i]]) {
        if (now !== joined) throw new Error(`key ${keys[i]} moved to ${now}, not to the joining ${joined}`);
        moved++;
      }
    }
    movedTotal += moved;
    movedMax = Math.max(movedMax, moved);
  }
  stats.joinIdeal = 1 / (nodeCount + 1);
  stats.joinMoved = joins === 0 ? NaN : movedTotal / joins / keys.length;
  stats.joinWorst = joins === 0 ? NaN : movedMax / keys.length;

  if (leaves > 0 && nodeCount > 1) {
    let leftTotal = 0;
    let leftMax = 0;
    for (let j = 0; j < leaves; j++) {
      const leaver = ring.members[Math.floor(((j + 0.5) * nodeCount) / leaves) % nodeCount];
      const shrunk = ring.withMembers(members.filter((member) => member !== leaver));
      let moved = 0;
      for (let i = 0; i < keys.length; i++) {
        const before = ring.members[owner[i]];
        if (shrunk.ownerOf(keys[i]) !== before) {
          if (before !== leaver) throw new Error(`key ${keys[i]} moved off ${before}, which did not leave`);
          moved++;
        }
      }
      leftTotal += moved;
      leftMax = Math.max(leftMax, moved);
    }
    stats.leaveIdeal = 1 / nodeCount;
    stats.leaveMoved = leftTotal / leaves / keys.length;
    stats.leaveWorst = leftMax / keys.length;
  }

  if (sets > 0) {
    const maxima = [];
    for (let set = 1; set <= sets; set++) {
      const shares = hashRing(
        Array.from({ length: nodeCount }, (_, i) => ringNodeId(i, set)),
        { virtualNodes },
      ).ownershipShare();
      maxima.push(Math.max(...shares.values()) * nodeCount);
    }
    maxima.sort((a, b) => a - b);
    stats.setsMedian = maxima[Math.floor(maxima.length / 2)];
    stats.setsWorst = maxima[maxima.length - 1];
  }
  return stats;
}
