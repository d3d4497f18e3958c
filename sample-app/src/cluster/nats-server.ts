// A private nats-server for `npm start -- --nats` and the NATS e2e test: a child process on a
// free loopback port (never a shared server on 4222), stopped with the cluster.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { portOr } from './ports.js';

/** `NATS_SERVER_BIN`, else /usr/sbin/nats-server (scripts/setup.sh installs it), else the PATH. */
export const NATS_SERVER_BIN =
  process.env.NATS_SERVER_BIN ??
  (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');

export interface OwnedNatsServer {
  readonly port: number;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/** Starts nats-server on `port` (0, or taken: a free one) and waits until it greets clients. */
export async function startNatsServer(port = 0, timeoutMs = 10_000): Promise<OwnedNatsServer> {
  const chosen = await portOr(port);
  // Through a watchdog (nats-watchdog.ts) that stops the server when this process is gone, even
  // by SIGKILL; SIGTERM to it reaches the server.
  // The built file, from src/ (the tests) as from dist/: both are two folders below the app.
  const watchdog = fileURLToPath(new URL('../../dist/cluster/nats-watchdog.js', import.meta.url));
  const child = fork(watchdog, [NATS_SERVER_BIN, '-a', '127.0.0.1', '-p', String(chosen)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // None of this process's node flags (--input-type, --cpu-prof...): it needs none.
    execArgv: [],
    // Its own process group, like the nodes: Ctrl-C reaches the launcher only, which stops the
    // nodes (they announce their departure through NATS) before it stops this server.
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null && !spawnError;
  // Safety net: never leave the server behind if the launcher exits without stopping it.
  const onExit = (): void => {
    if (running()) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    })());

  const deadline = Date.now() + timeoutMs;
  while (!(await greets(chosen))) {
    if (!running()) {
      await stop();
      throw new Error(
        `nats-server (${NATS_SERVER_BIN}) on port ${chosen} did not start: ${spawnError?.message ?? output}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server on port ${chosen} did not accept clients in ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { port: chosen, url: `nats://127.0.0.1:${chosen}`, stop };
}

/** True when something on `port` sends a NATS `INFO` greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('INFO ')));
  });
}
