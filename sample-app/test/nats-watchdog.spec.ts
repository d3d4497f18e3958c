// The launcher's private nats-server goes when the launcher goes, even by SIGKILL (no exit handler
// runs then). Before, `kill -9` of `npm start -- --nats` left it running with parent pid 1, holding
// its port (found by an outside tester). Runs the built dist/ in a child process as the launcher.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const NATS_SERVER = fileURLToPath(new URL('../dist/cluster/nats-server.js', import.meta.url));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the private nats-server', () => {
  it('stops when the process that started it is killed with SIGKILL', async () => {
    const launcher = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startNatsServer } = await import(${JSON.stringify(NATS_SERVER)});
         const server = await startNatsServer();
         process.stdout.write(server.port + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // Killed however the test ends: a launcher left running keeps its server, and vitest waiting.
    onTestFinished(() => void launcher.kill('SIGKILL'));
    // Written raw: console.log of a number is coloured when FORCE_COLOR is set (nx sets it in CI).
    const [chunk] = (await once(launcher.stdout!, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());
    expect(Number.isInteger(port), `the launcher wrote ${JSON.stringify(chunk.toString())}`).toBe(true);
    expect(await accepts(port)).toBe(true);
    launcher.kill('SIGKILL');
    await once(launcher, 'exit');
    const deadline = Date.now() + 10_000;
    while (await accepts(port)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
