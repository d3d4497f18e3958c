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

/** `count` distinct free ports, preferring `base`, `base + 1`, ... (0: any free ports). */
export async function pickPorts(
  count: number,
  base: number,
  taken: Set<number> = new Set(),
): Promise<number[]> {
  const ports: number[] = [];
  for (let index = 0; ports.length < count; index += 1) {
    const port = await portOr(base === 0 ? 0 : base + index);
    if (!taken.has(port)) {
      taken.add(port);
      ports.push(port);
    }
  }
  return ports;
}
