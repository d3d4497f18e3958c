// Turns the per-round summaries of an e2e-http run (one per variant and round, see phase.mjs) into
// the printed tables, the goals and the charts of bench/results/e2e-http.json: medians over rounds,
// and ratios as medians of per-round ratios against cache-manager + Redis (within a round the
// variants' phases alternate, so what slowed the machine down slowed both sides of a ratio).
import { median } from '../lib/measure.mjs';
import { formatRatio } from '../lib/report.mjs';

/** The variants a run compares by default (issue #9). */
export const VARIANTS = ['no-cache', 'cache-manager', 'bentocache', 'distcache'];
/**
 * Also available with --variants: references, not caches to compare (app/src/variants/local-map.variant.ts,
 * distCacheStandaloneVariant in app/src/variants/distcache.variant.ts).
 */
export const EXTRA_VARIANTS = ['local-map', 'distcache-standalone'];
export const VARIANT_LABELS = {
  'no-cache': 'no cache',
  'cache-manager': 'cache-manager + Redis',
  bentocache: 'bentocache L1 + Redis L2 + bus',
  distcache: 'distcache',
  'local-map': 'in-process Map (upper bound)',
  'distcache-standalone': 'distcache, standalone engines (no cluster)',
};
const REFERENCE = 'cache-manager';
/** Issue #9: distcache >= 1.2x the req/s of cache-manager + Redis, <= 0.7x its p50, no more source calls. */
export const GOALS = { rps: 1.2, p50: 0.7 };

const int = (n) => Math.round(n).toLocaleString('en');
const ms = (n) => n.toFixed(2);
const pct = (n) => `${(100 * n).toFixed(0)}%`;
const callsPerKey = (r) => r.sourceCalls / r.distinctKeys;

/**
 * @param {object[]} results round summaries (phase.mjs `summarizeRound`)
 * @param {string[]} variants in the order of the tables
 * @param {object} options the run's options
 */
export function buildReport(results, variants, options) {
  const of = (variant) => results.filter((r) => r.variant === variant).sort((a, b) => a.round - b.round);
  /** Median over rounds of `pick(summary)`. */
  const med = (variant, pick) => median(of(variant).map(pick));
  const hasReference = variants.includes(REFERENCE);
  /** Median over rounds of variant / reference, paired by round. */
  const ratio = (variant, pick) => {
    const reference = of(REFERENCE);
    return median(of(variant).map((r, i) => pick(r) / pick(reference[i])));
  };
  const ratioCell = (variant, pick) => (hasReference ? formatRatio(ratio(variant, pick)) : '-');
  const { connections, lightConnections, rounds } = options;
  const sat = (key) => (r) => r.saturated[key];
  const light = (key) => (r) => r.light[key];

  /** One phase's latency table; `ratios` are the metrics compared with cache-manager + Redis. */
  const phaseTable = (title, metric, ratios) => {
    const ratioLabel = (key) => `${{ rps: 'req/s', p50: 'p50', p99: 'p99', p999: 'p99.9' }[key]} vs cm`;
    return {
      title,
      columns: ['variant', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'failed', ...ratios.map(ratioLabel)],
      rows: variants.map((v) => [
        VARIANT_LABELS[v],
        int(med(v, metric('rps'))),
        ms(med(v, metric('p50'))),
        ms(med(v, metric('p99'))),
        ms(med(v, metric('p999'))),
        String(of(v).reduce((n, r) => n + metric('failed')(r), 0)),
        ...ratios.map((key) => ratioCell(v, metric(key))),
      ]),
    };
  };
  const saturation = phaseTable(
    `At saturation, ${connections} connections over the 3 instances: medians of ${rounds} rounds ` +
      '(ratios: median of per-round ratios vs cache-manager + Redis)',
    sat,
    ['rps', 'p50', 'p99'],
  );
  const lightLoad = phaseTable(
    `At light load, ${lightConnections} connections (one request in flight on each): medians of ${rounds} rounds`,
    light,
    ['p50', 'p99', 'p999'],
  );
  const resources = {
    title:
      'Data source and resources: source calls and distinct keys over the whole round (fresh caches), ' +
      'CPU and event loop over the saturated phases, RSS at the end of the round (medians of rounds)',
    columns: [
      'variant',
      'source calls',
      'distinct keys',
      'calls per key',
      'calls per 1k req',
      'app CPU s (3)',
      'CPU s, busiest process',
      'app CPU µs/req',
      'redis-server CPU µs/req',
      'loop busy, max',
      'RSS MB (3)',
      'RSS MB, max',
    ],
    rows: variants.map((v) => [
      VARIANT_LABELS[v],
      int(med(v, (r) => r.sourceCalls)),
      int(med(v, (r) => r.distinctKeys)),
      med(v, callsPerKey).toFixed(3),
      med(v, (r) => (1000 * r.sourceCalls) / r.requested).toFixed(1),
      med(v, sat('cpuSum')).toFixed(2),
      med(v, sat('cpuMax')).toFixed(2),
      med(v, sat('cpuPerRequest')).toFixed(0),
      med(v, sat('redisCpuPerRequest')).toFixed(1),
      pct(med(v, sat('busyMax'))),
      med(v, (r) => r.rssSum).toFixed(0),
      med(v, (r) => r.rssMax).toFixed(0),
    ]),
  };
  const tables = [saturation, lightLoad, resources];

  // Where the instances' CPU goes at saturation (results recorded from 2026-12-06 on; Linux only):
  // the main threads (the event loop: Nest, HTTP, the cache's own code, GC pauses) and every other
  // thread (V8's concurrent marking, parallel scavenges and sweeping; libuv's pool).
  if (results.every((r) => Number.isFinite(r.saturated.mainCpuPerRequest))) {
    tables.push({
      title: 'Where the app CPU goes at saturation, per request (3 instances, medians of rounds)',
      columns: [
        'variant',
        'app CPU µs/req',
        'main threads µs/req',
        'other threads µs/req',
        'GC pauses µs/req',
        'GC pauses per 1k req',
      ],
      rows: variants.map((v) => [
        VARIANT_LABELS[v],
        med(v, sat('cpuPerRequest')).toFixed(0),
        med(v, sat('mainCpuPerRequest')).toFixed(0),
        med(v, sat('otherThreadsCpuPerRequest')).toFixed(0),
        med(v, sat('gcPausePerRequest')).toFixed(1),
        med(v, sat('gcPausesPerKRequests')).toFixed(1),
      ]),
    });
  }

  const engines = variants.filter((v) => v === 'distcache' || v === 'distcache-standalone');
  if (engines.length > 0) {
    const both = (field) => (r) => (r.saturated.cache[field] ?? 0) + (r.light.cache[field] ?? 0);
    tables.push({
      title: 'distcache counters over the counted phases, sum of the 3 instances (median of rounds)',
      columns: [
        'variant',
        'gets',
        'hit ratio',
        'hot hits',
        'peer loads',
        'peer requests served',
        'source loads',
        'fallback loads',
        'peer errors',
        'items at end',
        'of which hot copies',
      ],
      rows: engines.map((v) => {
        const m = (pick) => med(v, pick);
        return [
          VARIANT_LABELS[v],
          int(m(both('gets'))),
          `${(100 * m((r) => both('hits')(r) / both('gets')(r))).toFixed(1)}%`,
          int(m(both('hotHits'))),
          int(m(both('peerLoads'))),
          int(m(both('peerRequestsServed'))),
          int(m(both('loads'))),
          int(m(both('fallbackLoads'))),
          int(m(both('peerErrors'))),
          int(m((r) => r.items)),
          int(m((r) => r.hotItems)),
        ];
      }),
    });
  }

  let missed = 0;
  const goalsChecked = hasReference && variants.includes('distcache');
  if (goalsChecked) {
    const rps = ratio('distcache', sat('rps'));
    const p50 = ratio('distcache', light('p50'));
    const p50Saturated = ratio('distcache', sat('p50'));
    const calls = med('distcache', callsPerKey);
    const referenceCalls = med(REFERENCE, callsPerKey);
    const goals = [
      [
        `distcache req/s >= ${GOALS.rps}x cache-manager + Redis (at saturation)`,
        formatRatio(rps),
        rps >= GOALS.rps,
      ],
      [
        `distcache p50 <= ${GOALS.p50}x cache-manager + Redis (at light load)`,
        formatRatio(p50),
        p50 <= GOALS.p50,
      ],
      [
        'distcache source calls per distinct key <= cache-manager + Redis',
        `${calls.toFixed(3)} vs ${referenceCalls.toFixed(3)}`,
        calls <= referenceCalls,
      ],
    ];
    missed = goals.filter(([, , pass]) => !pass).length;
    tables.push({
      title: `Goals (for information, not a goal: p50 at saturation ${formatRatio(p50Saturated)})`,
      columns: ['goal', 'measured', 'result'],
      rows: goals.map(([goal, measured, pass]) => [goal, measured, pass ? 'PASS' : 'MISS']),
    });
  }

  tables.push({
    title: 'Every round',
    columns: [
      'round',
      'variant',
      'req/s',
      'p50 ms',
      'light p50 ms',
      'light p99 ms',
      'source calls',
      'calls per key',
      'app CPU µs/req',
    ],
    rows: [...results]
      .sort((a, b) => a.round - b.round || variants.indexOf(a.variant) - variants.indexOf(b.variant))
      .map((r) => [
        String(r.round + 1),
        VARIANT_LABELS[r.variant],
        int(r.saturated.rps),
        ms(r.saturated.p50),
        ms(r.light.p50),
        ms(r.light.p99),
        int(r.sourceCalls),
        callsPerKey(r).toFixed(3),
        r.saturated.cpuPerRequest.toFixed(0),
      ]),
  });

  const notes = [
    'Load generator (autocannon, in the bench process) CPU per request at saturation: ' +
      variants
        .map((v) => `${VARIANT_LABELS[v]} ${med(v, sat('loadgenCpuPerRequest')).toFixed(0)} µs`)
        .join(', ') +
      '. redis-server CPU is the whole server: other clients of the shared Redis count too.',
  ];

  const bars = (pick) =>
    variants.map((v) => ({ label: VARIANT_LABELS[v], value: Number(med(v, pick).toFixed(3)) }));
  const charts = [
    {
      id: 'throughput',
      title: `GET /products/:id on 3 instances, requests/s at saturation (${connections} connections, median of ${rounds} rounds)`,
      unit: 'req/s',
      higherIsBetter: true,
      groups: [{ label: `${connections} connections`, bars: bars(sat('rps')) }],
    },
    {
      id: 'latency',
      title: `Latency at light load (${lightConnections} connections), ms`,
      unit: 'ms',
      higherIsBetter: false,
      groups: [
        { label: 'p50', bars: bars(light('p50')) },
        { label: 'p99', bars: bars(light('p99')) },
        { label: 'p99.9', bars: bars(light('p999')) },
      ],
    },
    {
      id: 'latency-p50',
      title: 'Median latency (p50), ms: at light load (the goal) and at saturation',
      unit: 'ms',
      higherIsBetter: false,
      groups: [
        { label: `light load, ${lightConnections} connections`, bars: bars(light('p50')) },
        { label: `saturation, ${connections} connections`, bars: bars(sat('p50')) },
      ],
    },
    {
      id: 'latency-saturated',
      title: `Latency at saturation (${connections} connections), ms`,
      unit: 'ms',
      higherIsBetter: false,
      groups: [
        { label: 'p50', bars: bars(sat('p50')) },
        { label: 'p99', bars: bars(sat('p99')) },
        { label: 'p99.9', bars: bars(sat('p999')) },
      ],
    },
    {
      id: 'source-calls',
      title: 'Data-source calls per round (fresh caches), 3 instances',
      unit: 'calls',
      higherIsBetter: false,
      groups: [{ label: 'source calls', bars: bars((r) => r.sourceCalls) }],
    },
    {
      id: 'source-calls-per-key',
      title: 'Data-source calls per distinct product requested (1 = each loaded once for the cluster)',
      unit: 'calls/key',
      higherIsBetter: false,
      groups: [{ label: 'calls per distinct key', bars: bars(callsPerKey) }],
    },
    {
      id: 'cpu-per-request',
      title: 'CPU per request at saturation, µs (app: 3 instances; redis-server)',
      unit: 'µs/req',
      higherIsBetter: false,
      groups: [
        { label: 'app instances', bars: bars(sat('cpuPerRequest')) },
        { label: 'redis-server', bars: bars(sat('redisCpuPerRequest')) },
      ],
    },
    {
      id: 'rss',
      title: 'RSS at the end of a round, MB',
      unit: 'MB',
      higherIsBetter: false,
      groups: [
        { label: 'sum of 3 instances', bars: bars((r) => r.rssSum) },
        { label: 'largest instance', bars: bars((r) => r.rssMax) },
      ],
    },
  ];
  return { tables, charts, notes, missed, goalsChecked };
}
