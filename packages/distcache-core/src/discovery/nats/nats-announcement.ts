import type { DiscoveredPeer } from '../discovery';

/** Version of the announcement format; a reader ignores messages of versions it does not know. */
export const NATS_ANNOUNCEMENT_VERSION = 1;

/** `up`: registered and alive (announcement, heartbeat, discovery reply); `leaving`: deregistered. */
export type NatsPeerState = 'up' | 'leaving';

/**
 * The JSON message every node publishes about itself (see docs/discovery/nats.md):
 * `{"v":1,"nodeName":"a","host":"10.0.0.1","port":3320,"state":"up"}`.
 */
export interface NatsAnnouncement {
  readonly v: typeof NATS_ANNOUNCEMENT_VERSION;
  readonly nodeName?: string;
  readonly host: string;
  readonly port: number;
  readonly state: NatsPeerState;
}

const MAX_HOST_LENGTH = 255;
const MAX_NAME_LENGTH = 256;
const decoder = new TextDecoder();

export function encodeAnnouncement(peer: DiscoveredPeer, state: NatsPeerState): string {
  const message: NatsAnnouncement = {
    v: NATS_ANNOUNCEMENT_VERSION,
    ...(peer.nodeName === undefined ? {} : { nodeName: peer.nodeName }),
    host: peer.host,
    port: peer.port,
    state,
  };
  return JSON.stringify(message);
}

/**
 * Parses and checks an announcement. Returns `undefined` for anything malformed or of another
 * version: the subject is shared, so a bad message from one publisher must not break the others.
 * Unknown fields are ignored, so later versions may add some.
 */
export function decodeAnnouncement(data: Uint8Array): NatsAnnouncement | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { v, nodeName, host, port, state } = parsed as Record<string, unknown>;
  if (v !== NATS_ANNOUNCEMENT_VERSION) return undefined;
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  if (state !== 'up' && state !== 'leaving') return undefined;
  if (nodeName !== undefined && (typeof nodeName !== 'string' || nodeName.length > MAX_NAME_LENGTH))
    return undefined;
  return {
    v,
    ...(nodeName === undefined ? {} : { nodeName }),
    host,
    port,
    state,
  };
}

/** The `host:port` identity discovery and membership key peers by. */
export const peerKey = (peer: { readonly host: string; readonly port: number }): string =>
  `${peer.host}:${peer.port}`;
