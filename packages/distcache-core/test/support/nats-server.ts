// A private nats-server per suite: a child process on a free loopback port, stopped and started
// again on the same port to simulate outages. Never the shared server on 4222.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import type { NatsClientModule, NatsConnection } from '../../src/discovery/nats/nats-client';
import { freePorts } from './cluster';

const BINARY =
  process.env.NATS_SERVER_BIN ??
  (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');

export interface NatsServer {
  readonly port: number;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** True while the process runs. */
  readonly running: boolean;
  /** Ends the server: SIGKILL (a crash) by default, or SIGTERM (graceful shutdown). */
  stop(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** `stop()`, then `start()` after `downMs`. */
  restart(downMs?: number): Promise<void>;
}

/** Starts nats-server on a free loopback port and waits until it greets clients. */
export async function startNatsServer(): Promise<NatsServer> {
  const [port] = (await freePorts(1)) as [number];
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    output = '';
    const spawned = spawn(BINARY, ['-a', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    spawned.stdout?.on('data', collect);
    spawned.stderr?.on('data', collect);
    spawned.once('exit', () => {
      if (child === spawned) child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await greets(port))) {
      if (child !== spawned) throw new Error(`nats-server on ${port} exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`nats-server on ${port} did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const stop = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
    child = undefined;
  };

  await start();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    restart: async (downMs = 0) => {
      await stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
  };
}

/** True when something on `port` sends a NATS `INFO` greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('INFO ')));
  });
}

/**
 * An `importClient` for natsDiscovery that loads the real client and keeps every connection it
 * opens, so a test can cut one (`connection.close()`) the way a crash would: no departure notice.
 */
export function capturingClient(): {
  importClient: () => Promise<NatsClientModule>;
  connections: NatsConnection[];
} {
  const connections: NatsConnection[] = [];
  return {
    connections,
    importClient: async () => {
      const real = await import('@nats-io/transport-node');
      return {
        createInbox: (prefix?: string) => real.createInbox(prefix),
        connect: async (options) => {
          const connection = await real.connect(options);
          connections.push(connection);
          return connection;
        },
      };
    },
  };
}
