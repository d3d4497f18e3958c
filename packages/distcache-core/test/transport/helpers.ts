// Shared pieces of the transport integration suites: transports that are closed after each test,
// a recording logger, and raw sockets that speak (or break) the protocol by hand.
import * as net from 'node:net';
import { vi } from 'vitest';
import type { DistCacheError } from '../../src/errors';
import type { LogContext, Logger } from '../../src/util/logger';
import { FrameReader } from '../../src/transport/frame-reader';
import {
  type PeerAddress,
  type PeerRequestHandler,
  type PeerResponse,
  tcpPeerTransport,
  type TcpPeerTransport,
  type TcpPeerTransportOptions,
} from '../../src/transport';

/** One recorded log line. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  context: LogContext | undefined;
}

/** A logger that keeps every line, for asserting on warnings. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug = (message: string, context?: LogContext): void =>
    void this.lines.push({ level: 'debug', message, context });
  info = (message: string, context?: LogContext): void =>
    void this.lines.push({ level: 'info', message, context });
  warn = (message: string, context?: LogContext): void =>
    void this.lines.push({ level: 'warn', message, context });
  error = (message: string, context?: LogContext): void =>
    void this.lines.push({ level: 'error', message, context });

  /** Messages logged at `warn`. */
  get warnings(): string[] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.message);
  }
}

const open: Array<{ close(): Promise<void> | void }> = [];

/** Registers something to close in {@link closeAll}. */
export function track<T extends { close(): Promise<void> | void }>(resource: T): T {
  open.push(resource);
  return resource;
}

/** Closes everything created by the helpers (call in `afterEach`). */
export async function closeAll(): Promise<void> {
  const resources = open.splice(0);
  await Promise.all(resources.map(async (resource) => resource.close()));
}

/** A transport with test-friendly defaults, closed by {@link closeAll}. */
export function transport(options: Partial<TcpPeerTransportOptions> = {}): TcpPeerTransport {
  return track(tcpPeerTransport({ nodeId: 'client', cluster: 'test', reconnect: { jitter: 0 }, ...options }));
}

/** Starts a listening transport; resolves with it and its bound address. */
export async function server(
  handler: PeerRequestHandler = pong('server'),
  options: Partial<TcpPeerTransportOptions> = {},
): Promise<{ server: TcpPeerTransport; address: PeerAddress }> {
  const started = transport({ nodeId: 'server', ...options });
  const address = await started.listen(handler);
  return { server: started, address };
}

/** A handler that answers everything with `pong`. */
export function pong(nodeId: string): PeerRequestHandler {
  return async () => ({ op: 'pong', nodeId });
}

/** Sends a ping with a generous deadline and resolves with the response. */
export function ping(
  client: TcpPeerTransport,
  address: PeerAddress,
  timeoutMs = 5000,
): Promise<PeerResponse> {
  return client.request(address, { op: 'ping' }, { timeoutMs });
}

/** Resolves with the rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<DistCacheError> {
  try {
    await promise;
  } catch (error) {
    return error as DistCacheError;
  }
  throw new Error('expected the promise to reject');
}

/** A hand-driven socket: send raw bytes, read whole frames, watch it close. */
export class RawSocket {
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly reader = new FrameReader(
    1 << 30,
    (frame) => this.frames.push(Buffer.from(frame)),
    () => undefined,
  );

  protected constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** Connects to `address`, from `localAddress` when given (another loopback address, say). */
  static connect(address: PeerAddress, localAddress?: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: address.host,
        port: address.port,
        ...(localAddress === undefined ? {} : { localAddress }),
      });
      socket.once('connect', () => resolve(track(new RawSocket(socket))));
      socket.once('error', reject);
    });
  }

  /** Wraps an accepted socket. */
  static wrap(socket: net.Socket): RawSocket {
    return track(new RawSocket(socket));
  }

  send(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Waits for the `n`-th frame received (0-based). */
  async frame(n = 0): Promise<Buffer> {
    await vi.waitFor(
      () => {
        if (this.frames.length <= n) throw new Error(`waiting for frame ${n}`);
      },
      { timeout: 5000, interval: 2 },
    );
    return this.frames[n] as Buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A plain TCP server whose accepted sockets are handed to `onSocket` as {@link RawSocket}s. */
export async function rawServer(onSocket: (socket: RawSocket) => void): Promise<PeerAddress> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    onSocket(RawSocket.wrap(socket));
  });
  track({
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        srv.close(() => resolve());
      }),
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port };
}

/** Waits until `condition` holds (polling; for socket events, never for timing assertions). */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`waiting for ${what}`);
    },
    { timeout: 5000, interval: 5 },
  );
}
