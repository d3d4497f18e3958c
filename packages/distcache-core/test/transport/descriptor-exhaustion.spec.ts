// A listener that runs out of file descriptors (EMFILE), in a child process under `ulimit -n 64`:
// it says so once, keeps serving the links it has, and accepts again once descriptors are freed.
// Runs the built package: `npm run build` first.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerAddress } from '../../src/transport';
import { closeAll, ping, RawSocket, transport, until } from './helpers';

const SCRIPT = join(import.meta.dirname, '..', 'support', 'limited-listener.mjs');
let child: ChildProcess | undefined;

afterEach(async () => {
  await closeAll();
  child?.kill('SIGKILL');
  child = undefined;
});

/** Starts the listener under `ulimit -n limit`; resolves with its address and its output lines. */
async function limitedListener(limit: number): Promise<{ address: PeerAddress; lines: string[] }> {
  const started = spawn('bash', ['-c', `ulimit -n ${limit} && exec "${process.execPath}" "${SCRIPT}"`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = started;
  const lines: string[] = [];
  let rest = '';
  started.stdout.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  await until(() => lines.length > 0, 'the listener address');
  return { address: JSON.parse(lines.shift() as string) as PeerAddress, lines };
}

describe('descriptor exhaustion (EMFILE) on the peer listener', () => {
  it('is logged once, keeps the established links, and accepts again once descriptors are freed', async () => {
    const { address, lines } = await limitedListener(64);
    const link = transport();
    expect(await ping(link, address)).toEqual({ op: 'pong', nodeId: 'limited' });
    // More connections than the child has descriptors, from two addresses (each under the per-address cap).
    const attack: RawSocket[] = [];
    for (let i = 0; i < 90; i++)
      attack.push(await RawSocket.connect(address, i % 2 === 0 ? '127.0.0.2' : '127.0.0.3'));
    await until(() => lines.some((line) => line.includes('out of file descriptors')), 'the EMFILE line');
    expect(await ping(link, address)).toEqual({ op: 'pong', nodeId: 'limited' });
    for (const socket of attack) socket.close();
    await until(() => lines.some((line) => line.includes('available again')), 'the recovery line');
    expect(await ping(transport({ nodeId: 'newcomer' }), address)).toEqual({ op: 'pong', nodeId: 'limited' });
    expect(lines.filter((line) => line.includes('out of file descriptors'))).toEqual([
      expect.stringMatching(
        /^error: out of file descriptors \(EMFILE\): the peer listener cannot accept connections/,
      ),
    ]);
  });
});
