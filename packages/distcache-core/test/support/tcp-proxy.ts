// A loopback TCP proxy between cluster nodes, for fault injection: added latency, a partition that
// holds or drops bytes, connection resets, per directed link between two nodes.
//
// Every node of the cluster is reached only through the proxy. Node i's peer listener binds
// `BACKEND_HOST:Pi` and advertises `FRONT_HOST`, so its id on every ring is `127.0.0.1:Pi`, where
// the proxy listens and forwards to the node. A peer connection is identified by the HELLO its
// dialler sends first (docs/protocol.md, section 4: the dialler's advertised port), so each
// connection belongs to one directed pair of nodes, and each direction of its bytes follows the
// rule of the link it travels: dialler -> target for requests, target -> dialler for answers.
import * as net from 'node:net';
import { decodeHandshakeFrame } from '../../src/transport/handshake-codec';

/** Where peers dial (the ring id's host) and where the nodes really listen. */
export const FRONT_HOST = '127.0.0.1';
export const BACKEND_HOST = '127.0.0.2';

/**
 * What a link does with the bytes that travel it:
 * - `pass`: forwards them, `latencyMs` later;
 * - `stall`: holds them, and delivers them in order when the link passes again (what TCP does over
 *   a network that drops packets for a while: retransmissions arrive after the heal);
 * - `drop`: discards them; a connection that lost bytes is cut when the link passes again, since
 *   its byte stream is broken (what TCP does when the retransmission timeout gives up);
 * - `reset`: resets the connections on the link at once, and every new one after its HELLO.
 */
export type LinkMode = 'pass' | 'stall' | 'drop' | 'reset';

export interface LinkRule {
  readonly mode: LinkMode;
  /** Added one-way delay in ms (applies in `pass` mode). */
  readonly latencyMs: number;
}

const PASS: LinkRule = { mode: 'pass', latencyMs: 0 };
/** Largest first frame read to identify a connection (a HELLO is far smaller). */
const MAX_HELLO_BYTES = 64 * 1024;

/** Per-link counters. */
export interface LinkStats {
  connections: number;
  bytesForwarded: number;
  bytesHeld: number;
  bytesDropped: number;
  resets: number;
}

interface Chunk {
  readonly data: Buffer;
  readonly arrivedAt: number;
}

/** One direction of one proxied connection. */
class Pipe {
  private readonly queue: Chunk[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Bytes were discarded: the stream is broken and the connection must not carry on. */
  lostBytes = false;

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly sink: net.Socket,
    private readonly proxy: TcpFaultProxy,
    private readonly onBroken: () => void,
  ) {}

  push(data: Buffer): void {
    const rule = this.proxy.rule(this.from, this.to);
    const stats = this.proxy.linkStats(this.from, this.to);
    if (rule.mode === 'drop') {
      stats.bytesDropped += data.length;
      this.lostBytes = true;
      return;
    }
    if (rule.mode === 'stall') stats.bytesHeld += data.length;
    this.queue.push({ data, arrivedAt: performance.now() });
    this.pump();
  }

  /** Forwards what the link lets through now; re-arms a timer for the rest. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rule = this.proxy.rule(this.from, this.to);
    if (rule.mode === 'reset') return;
    if (rule.mode !== 'pass') return;
    if (this.lostBytes) return this.onBroken();
    const now = performance.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const due = head.arrivedAt + rule.latencyMs;
      if (due > now) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(due - now));
        return;
      }
      this.queue.shift();
      this.proxy.linkStats(this.from, this.to).bytesForwarded += head.data.length;
      if (!this.sink.destroyed) this.sink.write(head.data);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** One proxied connection: a dialler's socket and the socket to the target node. */
class Connection {
  private readonly pipes: Pipe[] = [];
  private closed = false;

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly down: net.Socket,
    private readonly up: net.Socket,
    private readonly proxy: TcpFaultProxy,
  ) {}

  start(first: Buffer): void {
    const forward = new Pipe(this.from, this.to, this.up, this.proxy, () => this.cut());
    const back = new Pipe(this.to, this.from, this.down, this.proxy, () => this.cut());
    this.pipes.push(forward, back);
    this.down.on('data', (data: Buffer) => forward.push(data));
    this.up.on('data', (data: Buffer) => back.push(data));
    // A close on either side ends the other: the peer sees what it would see without the proxy.
    this.down.on('close', () => this.end(this.up));
    this.up.on('close', () => this.end(this.down));
    forward.push(first);
  }

  /** Applies the current rules: resets the connection or lets held bytes through. */
  reapply(): void {
    if (this.closed) return;
    const forward = this.proxy.rule(this.from, this.to);
    const back = this.proxy.rule(this.to, this.from);
    if (forward.mode === 'reset' || back.mode === 'reset') return this.reset();
    for (const pipe of this.pipes) pipe.pump();
  }

  reset(): void {
    if (this.closed) return;
    this.proxy.linkStats(this.from, this.to).resets += 1;
    this.teardown();
    this.down.resetAndDestroy();
    this.up.resetAndDestroy();
  }

  /** The byte stream is broken (bytes were dropped): both sides see the connection die. */
  cut(): void {
    this.reset();
  }

  destroy(): void {
    this.teardown();
    this.down.destroy();
    this.up.destroy();
  }

  private end(other: net.Socket): void {
    if (this.closed) return;
    this.teardown();
    other.destroy();
  }

  private teardown(): void {
    this.closed = true;
    for (const pipe of this.pipes) pipe.close();
    this.proxy.forget(this);
  }
}

/**
 * The proxy. `addNode` gives each node its port; the test spawns the node listening on
 * `BACKEND_HOST:port` and advertising `FRONT_HOST`, then changes links while the cluster runs.
 *
 * @example
 * const proxy = new TcpFaultProxy();
 * const port = await proxy.addNode('a'); // node a: host BACKEND_HOST, advertiseHost FRONT_HOST
 * proxy.partition([['a'], ['b', 'c']]);
 * proxy.heal();
 */
export class TcpFaultProxy {
  private readonly servers = new Map<string, net.Server>();
  private readonly nodesByPort = new Map<number, string>();
  private readonly portsByNode = new Map<string, number>();
  private readonly rules = new Map<string, LinkRule>();
  private readonly stats = new Map<string, LinkStats>();
  private readonly connections = new Set<Connection>();
  /** Sockets accepted whose HELLO has not arrived yet. */
  private readonly opening = new Set<net.Socket>();

  /** Listens for `name` on a free port of FRONT_HOST; resolves with the port. */
  async addNode(name: string): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(name, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, FRONT_HOST, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    this.servers.set(name, server);
    this.nodesByPort.set(port, name);
    this.portsByNode.set(name, port);
    return port;
  }

  portOf(name: string): number {
    const port = this.portsByNode.get(name);
    if (port === undefined) throw new Error(`unknown node ${name}`);
    return port;
  }

  /** The rule of the directed link `from -> to` (bytes sent by `from` to `to`). */
  rule(from: string, to: string): LinkRule {
    return this.rules.get(`${from}>${to}`) ?? PASS;
  }

  /** Sets the rule of the directed link `from -> to`. */
  setLink(from: string, to: string, rule: Partial<LinkRule>): void {
    this.rules.set(`${from}>${to}`, { ...PASS, ...rule });
    this.reapply();
  }

  /** Cuts every link between two different groups, both ways. */
  partition(groups: ReadonlyArray<readonly string[]>, mode: Exclude<LinkMode, 'pass'> = 'stall'): void {
    groups.forEach((group, index) => {
      for (const other of groups.slice(index + 1)) {
        for (const a of group) {
          for (const b of other) {
            this.rules.set(`${a}>${b}`, { mode, latencyMs: 0 });
            this.rules.set(`${b}>${a}`, { mode, latencyMs: 0 });
          }
        }
      }
    });
    this.reapply();
  }

  /** Adds `latencyMs` one way on every link to and from `node`. */
  slow(node: string, latencyMs: number): void {
    for (const other of this.portsByNode.keys()) {
      if (other === node) continue;
      this.rules.set(`${node}>${other}`, { mode: 'pass', latencyMs });
      this.rules.set(`${other}>${node}`, { mode: 'pass', latencyMs });
    }
    this.reapply();
  }

  /** Every link back to pass with no latency; held bytes are delivered, broken streams cut. */
  heal(): void {
    this.rules.clear();
    this.reapply();
  }

  linkStats(from: string, to: string): LinkStats {
    const key = `${from}>${to}`;
    let stats = this.stats.get(key);
    if (stats === undefined) {
      stats = { connections: 0, bytesForwarded: 0, bytesHeld: 0, bytesDropped: 0, resets: 0 };
      this.stats.set(key, stats);
    }
    return stats;
  }

  /** Counters of every link that carried something, by `from>to`. */
  allStats(): Record<string, LinkStats> {
    return Object.fromEntries(this.stats);
  }

  /** The counters of every link added up. */
  totals(): LinkStats {
    const total: LinkStats = { connections: 0, bytesForwarded: 0, bytesHeld: 0, bytesDropped: 0, resets: 0 };
    for (const stats of this.stats.values()) {
      for (const field of Object.keys(total) as Array<keyof LinkStats>) total[field] += stats[field];
    }
    return total;
  }

  /** Connections open through the proxy now. */
  get openConnections(): number {
    return this.connections.size;
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  async close(): Promise<void> {
    for (const socket of this.opening) socket.destroy();
    for (const connection of [...this.connections]) connection.destroy();
    await Promise.all(
      [...this.servers.values()].map((server) => new Promise((resolve) => server.close(resolve))),
    );
    this.servers.clear();
  }

  private reapply(): void {
    for (const connection of [...this.connections]) connection.reapply();
  }

  /** Reads the dialler's first frame to learn who it is, then connects to the target node. */
  private accept(to: string, down: net.Socket): void {
    down.setNoDelay(true);
    down.on('error', () => undefined);
    this.opening.add(down);
    let buffered = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      buffered = Buffer.concat([buffered, data]);
      const from = this.identify(buffered);
      if (from === null) return;
      down.off('data', onData);
      this.opening.delete(down);
      down.pause();
      this.open(from ?? 'unknown', to, down, buffered);
    };
    down.on('data', onData);
    down.once('close', () => this.opening.delete(down));
  }

  /** The dialler's node name; `undefined` when the first frame is no HELLO; `null` when incomplete. */
  private identify(buffered: Buffer): string | undefined | null {
    if (buffered.length < 4) return null;
    const length = buffered.readUInt32BE(0);
    if (length > MAX_HELLO_BYTES) return undefined;
    if (buffered.length < 4 + length) return null;
    try {
      const frame = decodeHandshakeFrame(buffered.subarray(0, 4 + length));
      if (frame.kind !== 'hello' || frame.hello === undefined) return undefined;
      return this.nodesByPort.get(frame.hello.address.port);
    } catch {
      return undefined;
    }
  }

  private open(from: string, to: string, down: net.Socket, first: Buffer): void {
    if (down.destroyed) return;
    const stats = this.linkStats(from, to);
    stats.connections += 1;
    if (this.rule(from, to).mode === 'reset' || this.rule(to, from).mode === 'reset') {
      stats.resets += 1;
      down.resetAndDestroy();
      return;
    }
    const up = net.connect({ host: BACKEND_HOST, port: this.portOf(to), noDelay: true });
    up.on('error', () => undefined);
    const refused = (): void => {
      down.resetAndDestroy();
    };
    up.once('close', refused);
    up.once('connect', () => {
      up.off('close', refused);
      const connection = new Connection(from, to, down, up, this);
      this.connections.add(connection);
      connection.start(first);
      down.resume();
      // Rules may have changed while connecting.
      connection.reapply();
    });
    down.once('close', () => {
      if (up.connecting) up.destroy();
    });
  }
}
