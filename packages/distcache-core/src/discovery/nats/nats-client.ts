// The slice of the NATS client this provider uses, typed structurally so that the public
// declaration files never mention the optional peer dependency.
//
// Why `@nats-io/transport-node`: it is the Node.js transport of nats.js v3, the maintained
// successor of the `nats` package (v2.x, which only receives fixes now). It declares
// `engines.node >= 18`, ships its own types, reconnects on its own (with an unlimited attempt
// count) and buffers publishes while reconnecting. It is verified here on Node 20 against
// nats-server 2.9 (test/discovery/nats*.spec.ts). The core logic lives in `@nats-io/nats-core`,
// which it depends on, so one install is enough.
import { discoveryFailed, missingDependency } from '../../errors/messages';

/** The npm package the provider loads. */
export const NATS_CLIENT_PACKAGE = '@nats-io/transport-node';

/** A received message. */
export interface NatsMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  respond(payload?: string | Uint8Array): boolean;
}

export interface NatsSubscription {
  unsubscribe(): void;
}

/** Connection events; only `disconnect`, `reconnect` and `close` matter here. */
export interface NatsStatus {
  readonly type: string;
}

export interface NatsConnection {
  publish(subject: string, payload?: string | Uint8Array, options?: { reply?: string }): void;
  subscribe(
    subject: string,
    options?: { callback?: (error: Error | null, message: NatsMessage) => void },
  ): NatsSubscription;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Resolves (never rejects) once the connection is closed for good, with the error that closed it. */
  closed(): Promise<void | Error>;
  isClosed(): boolean;
  status(): AsyncIterable<NatsStatus>;
}

/** What the provider hands to `connect` (a subset of the client's `NodeConnectionOptions`). */
export interface NatsConnectOptions {
  servers: string[];
  name: string;
  reconnect: boolean;
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
  timeout: number;
  user?: string;
  pass?: string;
  token?: string;
  tls?: Record<string, unknown>;
}

/** The module `@nats-io/transport-node` as far as the provider needs it. */
export interface NatsClientModule {
  connect(options: NatsConnectOptions): Promise<NatsConnection>;
  createInbox(prefix?: string): string;
}

// The literal specifier keeps bundlers (tsup marks peer dependencies external) from inlining it.
const importTransportNode = (): Promise<NatsClientModule> => import('@nats-io/transport-node');

/**
 * Loads the client with a dynamic `import()`, so users who never use NATS need not install it.
 *
 * @throws DistCacheError `E_MISSING_DEPENDENCY` when the package is not installed,
 *   `E_DISCOVERY_FAILED` when it is installed but cannot be loaded
 */
export async function loadNatsClient(
  importer: () => Promise<NatsClientModule> = importTransportNode,
): Promise<NatsClientModule> {
  let loaded: unknown;
  try {
    loaded = await importer();
  } catch (error) {
    if (isModuleNotFound(error)) throw missingDependency('natsDiscovery', NATS_CLIENT_PACKAGE);
    throw discoveryFailed('nats', `could not load ${NATS_CLIENT_PACKAGE}`, error);
  }
  // A CommonJS build may hand back the module under `default`.
  for (const candidate of [loaded, (loaded as { default?: unknown } | null)?.default]) {
    if (isClientModule(candidate)) return candidate;
  }
  throw discoveryFailed('nats', `${NATS_CLIENT_PACKAGE} does not export connect() and createInbox()`);
}

function isClientModule(value: unknown): value is NatsClientModule {
  if (typeof value !== 'object' || value === null) return false;
  const module = value as Partial<Record<keyof NatsClientModule, unknown>>;
  return typeof module.connect === 'function' && typeof module.createInbox === 'function';
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
