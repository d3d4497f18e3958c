// Runs nats-server for the launcher and stops it when the launcher is gone. Forked with an IPC
// channel: when the launcher dies, even by SIGKILL (no 'exit' handler runs), the channel closes
// and this process kills the server. Before, `kill -9` of `npm start -- --nats` left its private
// nats-server running, holding its port, with parent pid 1 (found by an outside tester).
// argv: the nats-server binary, then its arguments. Exits as the server did.
import { spawn } from 'node:child_process';

const [bin, ...args] = process.argv.slice(2);
if (bin === undefined) {
  console.error('nats-watchdog: no nats-server binary given');
  process.exit(2);
}
const server = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
server.once('error', (error) => {
  console.error(`cannot run ${bin}: ${error.message}`);
  process.exit(127);
});
server.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
process.once('disconnect', () => server.kill('SIGKILL'));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.kill(signal));
