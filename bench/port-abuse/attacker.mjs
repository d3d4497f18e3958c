// The attacker of the port-abuse scenarios, in its own process: it opens raw TCP connections to one
// node's peer port from other loopback addresses (another host, as far as the node can tell), speaks
// the handshake of docs/protocol.md by hand, then misbehaves as told.
//
// Config (argv[2], JSON): { host, port, cluster, mode, connections, sources: ['127.0.0.2', ..],
//   frameBytes?, trickleBytes?, trickleMs? }
// Modes: 'big-frames'  handshake, then frames of `frameBytes` as fast as the socket takes them;
//        'idle'        handshake, then nothing;
//        'slow-loris'  handshake, announce a frame of `frameBytes`, send `trickleBytes` every `trickleMs`.
// With `refillMs`, each connection the node closes is opened again that much later.
// IPC in: { cmd: 'report' } | { cmd: 'close' }. IPC out: { type: 'opened', ... } once every connection
// was attempted; { type: 'report', ... } on request; { type: 'closed' } after 'close'.
import * as net from 'node:net';

const config = JSON.parse(process.argv[2]);
const sockets = new Set();
const counts = {
  attempted: 0,
  connectFailed: 0,
  welcomed: 0,
  goAway: 0,
  closedByNode: 0,
  closedBeforeWelcome: 0,
};
const closeDelays = [];
let closing = false;

function str16(text) {
  const bytes = Buffer.from(text);
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** A HELLO frame of protocol version 2 (docs/protocol.md section 4), written out as an attacker would. */
function hello(nodeId) {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(0x44434143, 0);
  fixed.writeUInt16BE(2, 4);
  fixed.writeUInt32BE(8 << 20, 6);
  const body = Buffer.concat([
    fixed,
    str16(config.cluster),
    str16(nodeId),
    str16('127.0.0.1'),
    Buffer.alloc(2),
    str16(`${nodeId}-incarnation`),
  ]);
  const header = Buffer.alloc(10);
  header.writeUInt32BE(6 + body.length, 0);
  header[4] = 0xf0;
  return Buffer.concat([header, body]);
}

/** The 10-byte header of a SET frame announcing `bytes` after the length prefix. */
function frameHeader(bytes, id) {
  const header = Buffer.alloc(10);
  header.writeUInt32BE(bytes, 0);
  header[4] = 0x03;
  header.writeUInt32BE(id, 6);
  return header;
}

const filler = Buffer.alloc(Math.max(0, (config.frameBytes ?? 0) - 6), 0x61);
const trickle = Buffer.alloc(config.trickleBytes ?? 4096, 0x61);

function open(index) {
  return new Promise((resolve) => {
    counts.attempted++;
    const socket = net.connect({
      host: config.host,
      port: config.port,
      localAddress: config.sources[index % config.sources.length],
    });
    let connected = false;
    let welcomed = false;
    let welcomedAt = 0;
    let received = Buffer.alloc(0);
    let timer;
    socket.on('error', (error) => (counts.lastError = error.code));
    socket.once('connect', () => {
      connected = true;
      sockets.add(socket);
      socket.write(hello(`attacker-${index}`));
      resolve();
    });
    socket.once('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      if (!connected) {
        counts.connectFailed++;
        return resolve();
      }
      if (closing) return;
      // A persistent attacker takes back every descriptor the node frees.
      if (config.refillMs > 0) setTimeout(() => closing || open(index), config.refillMs);
      if (welcomed) {
        counts.closedByNode++;
        closeDelays.push(performance.now() - welcomedAt);
      } else {
        counts.closedBeforeWelcome++;
      }
    });
    socket.on('data', (chunk) => {
      if (welcomed && config.mode !== 'idle') return; // only GOAWAY matters after the handshake
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readUInt32BE(0)) {
        const frame = received.subarray(0, 4 + received.readUInt32BE(0));
        received = received.subarray(frame.length);
        if (frame[4] === 0xf1 && !welcomed) {
          welcomed = true;
          welcomedAt = performance.now();
          counts.welcomed++;
          misbehave(socket, (t) => (timer = t));
        } else if (frame[4] === 0x86) {
          counts.goAway++;
        }
      }
    });
  });
}

function misbehave(socket, setTimer) {
  if (config.mode === 'big-frames') {
    let id = 1;
    const send = () => {
      while (!socket.destroyed) {
        socket.write(frameHeader(config.frameBytes, id++));
        if (!socket.write(filler)) return void socket.once('drain', send);
      }
    };
    send();
  } else if (config.mode === 'slow-loris') {
    socket.write(frameHeader(config.frameBytes, 1));
    setTimer(setInterval(() => socket.destroyed || socket.write(trickle), config.trickleMs));
  }
}

process.on('message', async ({ cmd }) => {
  if (cmd === 'report') {
    closeDelays.sort((a, b) => a - b);
    const at = (q) => closeDelays[Math.min(closeDelays.length - 1, Math.floor(q * closeDelays.length))];
    process.send({
      type: 'report',
      ...counts,
      open: sockets.size,
      closeDelayMs: closeDelays.length === 0 ? undefined : { min: closeDelays[0], p50: at(0.5), max: at(1) },
    });
  } else if (cmd === 'close') {
    closing = true;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    process.send({ type: 'closed' });
  }
});

// Open in waves, so the attack does not stall on its own connect queue.
const wave = 200;
for (let i = 0; i < config.connections; i += wave) {
  await Promise.all(Array.from({ length: Math.min(wave, config.connections - i) }, (_, k) => open(i + k)));
}
process.send({ type: 'opened', ...counts, open: sockets.size });
