/**
 * The dashboard's script, run by the browser. The build bundles it into one IIFE string
 * (scripts/dashboard-script.ts) that the page inlines and pins by hash in its CSP. It polls the
 * JSON endpoints every two seconds, keeps five minutes of samples in memory, and draws with inline
 * SVG. Everything shown is built with DOM calls and `textContent`, never parsed from strings.
 *
 * It reads the endpoints with the types the server writes them with. Imports are types only (ESLint
 * enforces it): nothing of the server may end up in the bundle.
 */
import type { HistoryView } from '../admin.history';
import type { KeySpacesView, KeySpaceView, PeersView, ReadyView } from '../admin.views';

const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const TOKEN_KEY = 'distcache-admin-token';
const PALETTE = ['#2f6fde', '#1f9d55', '#d98b00', '#9b51e0', '#d64545', '#0e9aa7', '#7a8699', '#c2185b'];
const SVG = 'http://www.w3.org/2000/svg';

/** The counters of one keyspace at one poll, oldest first per keyspace. */
interface Sample {
  readonly at: number;
  readonly gets: number;
  readonly hits: number;
  readonly loads: number;
}

/** Rates between two samples: hit ratio (`null` without gets), loads and gets per second. */
interface Rates {
  readonly ratio: number | null;
  readonly loads: number;
  readonly gets: number;
}

type Attributes = Readonly<Record<string, string | number>>;
/** A child to append; `null` stands for "nothing here" so that lists can hold optional parts. */
type Child = Node | null;

/** A 401 from an endpoint: the page asks for the token instead of retrying. */
class Unauthorized extends Error {}

const samples = new Map<string, Sample[]>();
let token = readToken();
let timer: number | undefined;
let seeded = false;

function readToken(): string {
  const fromHash = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1))?.[1];
  try {
    if (fromHash !== undefined) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return fromHash === undefined ? '' : decodeURIComponent(fromHash);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAll(node, attributes);
  append(node, children);
  return node;
}
function svg(
  tag: keyof SVGElementTagNameMap,
  attributes: Attributes = {},
  children: readonly Child[] = [],
): SVGElement {
  const node = document.createElementNS(SVG, tag);
  setAll(node, attributes);
  append(node, children);
  return node;
}
function setAll(node: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = String(value);
    else if (name === 'className') node.setAttribute('class', String(value));
    else node.setAttribute(name, String(value));
  }
}
function append(node: Node, children: readonly Child[]): void {
  children.forEach((child) => {
    if (child) node.appendChild(child);
  });
}
/** The element with this id; the page's markup (dashboard.page.ts) has every id the script uses. */
function byId(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}
function fill(id: string, children: readonly Child[]): void {
  const target = byId(id);
  while (target.firstChild) target.removeChild(target.firstChild);
  append(target, children);
}
function text(id: string, value: string): void {
  byId(id).textContent = value;
}
function badge(value: string): HTMLElement {
  return el('span', { className: 'badge ' + value, text: value });
}
function percent(value: number | null, digits = 1): string {
  return value === null ? '-' : (value * 100).toFixed(digits) + '%';
}
function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = count;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i] ?? ''}`;
}
function ago(at: number | null): string {
  if (at === null) return '-';
  const seconds = Math.max(0, (Date.now() - at) / 1000);
  return seconds < 60 ? seconds.toFixed(1) + ' s ago' : Math.round(seconds / 60) + ' min ago';
}
function bar(share: number, color?: string): HTMLElement {
  const inner = el('span');
  inner.style.width = Math.max(0, Math.min(1, share)) * 100 + '%';
  if (color) inner.style.background = color;
  return el('div', { className: 'bar' }, [inner]);
}

async function request<T>(path: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const response = await fetch(path, { headers, cache: 'no-store' });
  if (response.status === 401) throw new Unauthorized('unauthorized');
  // The server writes these bodies with the same types (admin.views.ts, admin.history.ts).
  return (await response.json()) as T;
}

function poll(): void {
  window.clearTimeout(timer);
  void Promise.all([
    request<PeersView>('peers'),
    request<KeySpacesView>('keyspaces'),
    request<ReadyView>('readyz'),
    // The server keeps the last minutes of counters: the charts start full, not empty.
    seeded ? null : request<HistoryView>('history').catch(() => null),
  ]).then(
    ([peers, spaces, ready, past]) => {
      if (!seeded) {
        seeded = true;
        if (past) seed(past);
      }
      byId('banner').className = '';
      byId('auth').className = 'card';
      render(peers, spaces, ready);
      timer = window.setTimeout(poll, POLL_MS);
    },
    (error: unknown) => {
      if (error instanceof Unauthorized) {
        byId('auth').className = 'card show';
        return;
      }
      const banner = byId('banner');
      const reason = error instanceof Error && error.message ? error.message : 'error';
      banner.textContent = `Cannot reach the admin endpoints (${reason}); retrying.`;
      banner.className = 'show';
      timer = window.setTimeout(poll, POLL_MS);
    },
  );
}

function render(peers: PeersView, spaces: KeySpacesView, ready: ReadyView): void {
  text('cluster', peers.cluster);
  text('node', peers.node);
  fill('state', [badge(peers.state)]);
  fill('ready', [badge(ready.ready ? 'ok' : 'bad')]);
  byId('ready').title = ready.reasons.join('; ') || 'ready';
  text('updated', new Date().toLocaleTimeString());
  renderMembers(peers);
  renderRing(peers);
  record(spaces);
  renderBreakers(spaces.keySpaces);
  renderSpaces(spaces.keySpaces);
}

function colorOf(peers: PeersView, id: string): string {
  const index = peers.peers.map((peer) => peer.id).indexOf(id);
  return PALETTE[index % PALETTE.length] ?? '';
}

function renderMembers(peers: PeersView): void {
  text('member-count', `${peers.members} on the ring, quorum ${peers.minMembers}`);
  const rows = peers.peers.map((peer) =>
    el('tr', {}, [
      el('td', {}, [el('b', { text: peer.nodeName || '?' })]),
      el('td', { className: 'mono', text: peer.id }),
      el('td', {}, [badge(peer.status)]),
      el('td', {}, [
        el('div', { className: 'share' }, [
          bar(peer.ownershipShare, colorOf(peers, peer.id)),
          el('span', { className: 'mono', text: percent(peer.ownershipShare) }),
        ]),
      ]),
      el('td', { className: 'num', text: peer.status === 'self' ? '-' : ago(peer.lastSeenAt) }),
    ]),
  );
  const labels = ['Node', 'Address', 'State', 'Ring share', 'Last ping'];
  fill('members', [
    el('table', {}, [
      el('thead', {}, [
        el(
          'tr',
          {},
          labels.map((label, i) => el('th', { className: i === 4 ? 'num' : '', text: label })),
        ),
      ]),
      el('tbody', {}, rows),
    ]),
  ]);
}

function renderRing(peers: PeersView): void {
  const owners = peers.peers.filter((peer) => peer.ownershipShare > 0);
  if (owners.length === 0) {
    fill('ring', [el('div', { className: 'empty', text: 'No ring yet.' })]);
    return;
  }
  const radius = 52;
  const width = 22;
  let angle = -Math.PI / 2;
  const arcs = owners.map((peer) => {
    const sweep = peer.ownershipShare * Math.PI * 2;
    const color = colorOf(peers, peer.id);
    if (owners.length === 1) {
      return svg('circle', { cx: 70, cy: 70, r: radius, fill: 'none', stroke: color, 'stroke-width': width });
    }
    const x1 = 70 + radius * Math.cos(angle);
    const y1 = 70 + radius * Math.sin(angle);
    angle += sweep;
    const x2 = 70 + radius * Math.cos(angle);
    const y2 = 70 + radius * Math.sin(angle);
    const d =
      `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${radius} ${radius} 0 ` +
      `${sweep > Math.PI ? 1 : 0} 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
    return svg('path', { d, fill: 'none', stroke: color, 'stroke-width': width });
  });
  const donut = svg('svg', { viewBox: '0 0 140 140', width: 140, height: 140, role: 'img' }, [
    ...arcs,
    svg('text', {
      x: 70,
      y: 68,
      'text-anchor': 'middle',
      'font-size': 22,
      'font-weight': 650,
      fill: '#1c2430',
      text: String(owners.length),
    }),
    svg('text', {
      x: 70,
      y: 86,
      'text-anchor': 'middle',
      'font-size': 11,
      fill: '#66707e',
      text: owners.length === 1 ? 'owner' : 'owners',
    }),
  ]);
  const legend = el(
    'div',
    { className: 'legend' },
    owners.map((peer) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.background = colorOf(peers, peer.id);
      return el('div', {}, [
        swatch,
        el('b', { text: (peer.nodeName || peer.id) + ' ' }),
        el('span', { className: 'mono', text: percent(peer.ownershipShare) }),
      ]);
    }),
  );
  fill('ring', [el('div', { className: 'ring' }, [donut, legend])]);
}

function samplesOf(name: string): Sample[] {
  let list = samples.get(name);
  if (list === undefined) samples.set(name, (list = []));
  return list;
}

function seed(past: HistoryView): void {
  for (const sample of past.samples) {
    for (const [name, c] of Object.entries(sample.keySpaces)) {
      samplesOf(name).push({ at: sample.at, gets: c.gets, hits: c.hits, loads: c.loads });
    }
  }
}

function record(spaces: KeySpacesView): void {
  const seen = new Set<string>();
  for (const space of spaces.keySpaces) {
    seen.add(space.name);
    const list = samplesOf(space.name);
    const last = list[list.length - 1];
    // Counters restart when a keyspace is deleted and added again: start its history afresh.
    if (last && (space.stats.gets < last.gets || space.stats.loads < last.loads)) list.length = 0;
    // Rates over less than a second are mostly noise (a poll retried at once, a hidden tab woken).
    if (last && spaces.at - last.at < 1000) continue;
    list.push({ at: spaces.at, gets: space.stats.gets, hits: space.stats.hits, loads: space.stats.loads });
    while (list.length > 2 && (list[0] as Sample).at < spaces.at - WINDOW_MS - POLL_MS) list.shift();
  }
  for (const name of samples.keys()) if (!seen.has(name)) samples.delete(name);
}

function rates(a: Sample, b: Sample): Rates {
  const gets = b.gets - a.gets;
  const seconds = Math.max(0.001, (b.at - a.at) / 1000);
  return {
    ratio: gets > 0 ? (b.hits - a.hits) / gets : null,
    loads: (b.loads - a.loads) / seconds,
    gets: gets / seconds,
  };
}

/** The rates between each two consecutive samples, stamped with the later one's time. */
function intervals(name: string): Array<Rates & { readonly at: number }> {
  const list = samples.get(name) ?? [];
  return list.slice(1).map((b, i) => ({ at: b.at, ...rates(list[i] as Sample, b) }));
}

/** The rates over the last `count` intervals (fewer when there are not that many). */
function recent(name: string, count: number): Rates {
  const list = samples.get(name) ?? [];
  if (list.length < 2) return { ratio: null, loads: 0, gets: 0 };
  return rates(list[Math.max(0, list.length - 1 - count)] as Sample, list[list.length - 1] as Sample);
}

function renderBreakers(spaces: readonly KeySpaceView[]): void {
  const guarded = spaces.filter((space) => space.stats.breaker !== 'none');
  const open = guarded.filter((space) => space.stats.breaker !== 'closed');
  text('breaker-count', guarded.length === 0 ? '' : `${open.length} open of ${guarded.length}`);
  if (guarded.length === 0) {
    fill('breakers', [el('div', { className: 'empty', text: 'No keyspace has a circuit breaker.' })]);
    return;
  }
  fill('breakers', [
    el(
      'div',
      { className: 'breakers' },
      guarded.map((space) =>
        el('div', { className: 'breaker' }, [
          el('b', { text: space.name }),
          badge(space.stats.breaker),
          el('span', { className: 'mono', text: `${space.stats.circuitRejected} rejected` }),
        ]),
      ),
    ),
  ]);
}

function chart(name: string): SVGElement {
  const points = intervals(name);
  const W = 400;
  const H = 130;
  const top = 8;
  const bottom = 18;
  const plot = H - top - bottom;
  const now = points[points.length - 1]?.at ?? Date.now();
  const x = (at: number): number => ((at - (now - WINDOW_MS)) / WINDOW_MS) * W;
  const peak = Math.max(0, ...points.map((p) => p.loads));
  const maxLoads = Math.max(1, peak);
  const parts: SVGElement[] = [];
  for (const level of [0, 0.5, 1]) {
    const y = top + plot * (1 - level);
    parts.push(svg('line', { x1: 0, x2: W, y1: y, y2: y, stroke: '#e2e6ec', 'stroke-width': 1 }));
    parts.push(svg('text', { x: 2, y: y - 2, 'font-size': 9, fill: '#8a94a3', text: `${level * 100}%` }));
  }
  const barWidth = Math.max(1.5, (POLL_MS / WINDOW_MS) * W * 0.7);
  for (const p of points) {
    if (p.loads <= 0) continue;
    const h = (p.loads / maxLoads) * plot * 0.9;
    parts.push(
      svg('rect', {
        x: x(p.at) - barWidth,
        y: top + plot - h,
        width: barWidth,
        height: h,
        fill: '#2f6fde',
        opacity: 0.35,
      }),
    );
  }
  let path = '';
  for (const p of points) {
    if (p.ratio === null) continue;
    path += `${path ? ' L ' : 'M '}${x(p.at).toFixed(1)} ${(top + plot * (1 - p.ratio)).toFixed(1)}`;
  }
  if (path) {
    parts.push(
      svg('path', {
        d: path,
        fill: 'none',
        stroke: '#1f9d55',
        'stroke-width': 2,
        'stroke-linejoin': 'round',
      }),
    );
  }
  const loadsLabel = peak > 0 ? `max ${peak.toFixed(peak < 10 ? 1 : 0)} loads/s` : 'no loads';
  parts.push(
    svg('text', {
      x: W - 2,
      y: top + 9,
      'text-anchor': 'end',
      'font-size': 9,
      fill: '#2f6fde',
      text: loadsLabel,
    }),
  );
  parts.push(svg('text', { x: 2, y: H - 4, 'font-size': 9, fill: '#8a94a3', text: '-5 min' }));
  parts.push(
    svg('text', { x: W - 2, y: H - 4, 'text-anchor': 'end', 'font-size': 9, fill: '#8a94a3', text: 'now' }),
  );
  return svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `hit ratio and loads of ${name}`,
    },
    parts,
  );
}

function figure(value: string, label: string, field: string): HTMLElement {
  return el('div', { className: 'figure' }, [
    el('b', { text: value, 'data-field': field }),
    el('span', { text: label }),
  ]);
}

function renderSpaces(spaces: readonly KeySpaceView[]): void {
  text('space-count', String(spaces.length));
  if (spaces.length === 0) {
    fill('spaces', [el('div', { className: 'empty', text: 'No keyspaces registered.' })]);
    return;
  }
  fill(
    'spaces',
    spaces.map((space) => {
      const s = space.stats;
      const now = recent(space.name, 5);
      const used = s.maxBytes > 0 ? s.bytes / s.maxBytes : 0;
      return el('div', { className: 'card space', 'data-keyspace': space.name }, [
        el('h3', {}, [el('span', { text: space.name }), s.breaker === 'none' ? null : badge(s.breaker)]),
        el('div', { className: 'figures' }, [
          figure(percent(now.ratio), 'hit ratio, last 10 s', 'recent-hit-ratio'),
          figure(percent(s.hitRatio), 'hit ratio, total', 'hit-ratio'),
          figure(now.gets.toFixed(now.gets < 10 ? 1 : 0), 'gets/s', 'gets-rate'),
          figure(now.loads.toFixed(now.loads < 10 ? 1 : 0), 'loads/s', 'loads-rate'),
        ]),
        el('div', { className: 'keys' }, [
          el('span', {}, [keyLine('#1f9d55'), document.createTextNode('hit ratio')]),
          el('span', {}, [keyLine('#2f6fde'), document.createTextNode('loads/s')]),
        ]),
        chart(space.name),
        el('div', { className: 'memory' }, [
          el('span', { text: 'memory' }),
          bar(used),
          el('span', {
            className: 'mono',
            text: `${bytes(s.bytes)} of ${bytes(s.maxBytes)} (${percent(used)})`,
            title: 'memory counted against maxBytes: values, keys, hot copies and bookkeeping',
          }),
        ]),
        el('div', { className: 'foot' }, [
          el('span', {
            text: `${s.items} entries (${s.hotItems} hot copies), ${s.evictions} evicted, ${s.tagInvalidations} tag invalidations`,
            title: 'tag invalidations: deleteByTags calls applied on this node (from any node)',
          }),
          el('span', {
            text: `${s.loads} loads, ${s.loadErrors} failed, ${s.staleHits} stale served, ${s.dedupedLoads} deduplicated`,
          }),
        ]),
      ]);
    }),
  );
}

function keyLine(color: string): HTMLElement {
  const line = el('i');
  line.style.background = color;
  return line;
}

byId('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = (byId('token') as HTMLInputElement).value.trim();
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Private mode: keep it in memory.
  }
  poll();
});
poll();
