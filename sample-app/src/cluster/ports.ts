import { createServer } from 'node:net';

/** Resolves `port` if it is free on 127.0.0.1, otherwise a free port the OS picks. */
export async function portOr(port: number): Promise<number> {
  const server = createServer();
  const bound = await new Promise<number | undefined>((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : undefined);
    });
  });
  if (bound !== undefined) {
    await new Promise((resolve) => server.close(resolve));
    return bound;
  }
  return port === 0 ? Promise.reject(new Error('no free port')) : portOr(0);
}

/**
 * Where "any free port" is looked for: below the range the OS hands out for outgoing connections
 * (Linux 32768-60999, macOS and Windows 49152-65535). A port the OS picked from that range was free
 * when probed, but a client socket of anything else running (a parallel test suite, a database
 * driver) could take it before the node listened: CI saw `EADDRINUSE` on an HTTP port picked
 * seconds before, while the catalogue was being seeded.
 */
const ANY_FROM = 20_000;
const ANY_TO = 32_767;

/** A free port of {@link ANY_FROM}-{@link ANY_TO}, tried at random; one the OS picks if none is found. */
async function anyPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const candidate = ANY_FROM + Math.floor(Math.random() * (ANY_TO - ANY_FROM + 1));
    if (taken.has(candidate)) continue;
    if ((await portOr(candidate)) === candidate) return candidate;
  }
  return portOr(0);
}

/** `count` distinct free ports, preferring `base`, `base + 1`, ... (0: any free ports). */
export async function pickPorts(
  count: number,
  base: number,
  taken: Set<number> = new Set(),
): Promise<number[]> {
  const ports: number[] = [];
  for (let index = 0; ports.length < count; index += 1) {
    const port = base === 0 ? await anyPort(taken) : await portOr(base + index);
    if (!taken.has(port)) {
      taken.add(port);
      ports.push(port);
    }
  }
  return ports;
}
