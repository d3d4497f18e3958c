import { DistCacheError } from './distcache-error';

// One place for every message, so wording stays consistent and each code is raised one way.

export const invalidOption = (path: string, problem: string, value?: unknown): DistCacheError =>
  new DistCacheError('E_INVALID_OPTION', `Invalid option "${path}": ${problem}${describe(value)}`, {
    details: { path },
  });

/** Known keyspaces named in the message, at most (a program may register hundreds). */
const LISTED_KEYSPACES = 10;

/**
 * `known`: the keyspaces this node has, listed (up to {@link LISTED_KEYSPACES}) so that a typo or a
 * keyspace whose provider was never registered shows at once; `closest`, one of them that looks
 * like a typo of `name`.
 */
export const keySpaceNotFound = (
  name: string,
  known?: readonly string[],
  closest?: string,
): DistCacheError => {
  let hint = '';
  if (known !== undefined) {
    const listed = known.slice(0, LISTED_KEYSPACES).map((other) => `"${other}"`);
    if (known.length > LISTED_KEYSPACES) listed.push(`${known.length - LISTED_KEYSPACES} more`);
    hint = known.length === 0 ? ' (no keyspace is registered)' : ` (registered: ${listed.join(', ')})`;
    if (closest !== undefined) hint += `; did you mean "${closest}"?`;
  }
  return new DistCacheError('E_KEYSPACE_NOT_FOUND', `Keyspace "${name}" is not registered${hint}`, {
    details: { keySpace: name },
  });
};

export const keySpaceExists = (name: string): DistCacheError =>
  new DistCacheError('E_KEYSPACE_EXISTS', `Keyspace "${name}" is already registered`, {
    details: { keySpace: name },
  });

export const invalidKey = (keySpace: string, problem: string): DistCacheError =>
  new DistCacheError('E_INVALID_KEY', `Invalid key in keyspace "${keySpace}": ${problem}`, {
    details: { keySpace },
  });

export const invalidValue = (
  keySpace: string,
  key: string,
  problem: string,
  cause?: unknown,
): DistCacheError =>
  new DistCacheError('E_INVALID_VALUE', `Invalid value for "${keySpace}/${key}": ${problem}`, {
    cause,
    details: { keySpace, key },
  });

export const valueTooLarge = (
  keySpace: string,
  key: string,
  bytes: number,
  limit: number,
  limitName: string,
) =>
  new DistCacheError(
    'E_VALUE_TOO_LARGE',
    limitName === 'maxBytes'
      ? `Value for "${keySpace}/${key}" would take ${bytes} bytes of memory as an entry, over ${limitName} (${limit} bytes)`
      : `Value for "${keySpace}/${key}" is ${bytes} bytes encoded, over ${limitName} (${limit} bytes)`,
    { details: { keySpace, key, bytes, limit, limitName } },
  );

/** A value refused before encoding: its strings and bytes alone are over the limit. */
export const valueTooLargeBeforeEncoding = (keySpace: string, key: string, atLeast: number, limit: number) =>
  new DistCacheError(
    'E_VALUE_TOO_LARGE',
    `Value for "${keySpace}/${key}" is at least ${atLeast} bytes encoded, over maxValueBytes (${limit} bytes); refused before encoding`,
    { details: { keySpace, key, bytes: atLeast, limit, limitName: 'maxValueBytes' } },
  );

/**
 * `codec`: the keyspace's codec here. The usual cause is a value encoded by a node whose keyspace
 * uses another codec (a rolling deploy that changes it, one replica configured apart), which the
 * message says, since nothing else shows it (the handshake does not carry codecs).
 */
export const decodeFailed = (keySpace: string, key: string, cause: unknown, codec: string): DistCacheError =>
  new DistCacheError(
    'E_DECODE_FAILED',
    `Could not decode the value of "${keySpace}/${key}" with codec "${codec}" (${errorText(cause)}); ` +
      'a value put or loaded by a node whose keyspace has another codec cannot be read here: every node ' +
      'must give the keyspace the same codec',
    { cause, details: { keySpace, key, codec } },
  );

export const dataSourceFailed = (keySpace: string, key: string, cause: unknown): DistCacheError =>
  new DistCacheError(
    'E_DATASOURCE_FAILED',
    `Data source of keyspace "${keySpace}" failed for key "${key}": ${errorText(cause)}`,
    { cause, details: { keySpace, key } },
  );

export const dataSourceTimeout = (keySpace: string, key: string, timeoutMs: number): DistCacheError =>
  new DistCacheError(
    'E_DATASOURCE_TIMEOUT',
    `Data source of keyspace "${keySpace}" did not answer for key "${key}" within ${timeoutMs}ms`,
    { details: { keySpace, key, timeoutMs } },
  );

export const timeout = (operation: string, timeoutMs: number): DistCacheError =>
  new DistCacheError('E_TIMEOUT', `${operation} did not finish within ${timeoutMs}ms`, {
    details: { operation, timeoutMs },
  });

/** A peer's SET arrived after its writer gave up on it; applying it could undo newer writes. */
export const lateWrite = (keySpace: string, key: string, lateByMs: number): DistCacheError =>
  new DistCacheError(
    'E_TIMEOUT',
    `A write of "${key}" in "${keySpace}" arrived ${lateByMs}ms after its writer's deadline and was not applied`,
    { details: { keySpace, key, lateByMs } },
  );

export const aborted = (operation: string, reason: unknown): DistCacheError =>
  new DistCacheError('E_ABORTED', `${operation} was aborted by the caller`, {
    cause: reason,
    details: { operation },
  });

/** `starting`: start() was called and has not finished (a caller did not await it). */
export const engineNotStarted = (operation: string, starting = false): DistCacheError =>
  new DistCacheError(
    'E_ENGINE_NOT_STARTED',
    starting
      ? `Cannot ${operation}: the engine is still starting (await engine.start() before using it)`
      : `Cannot ${operation}: the engine is not started (call and await engine.start() first; ` +
          'the NestJS module starts it during application bootstrap, after every onModuleInit)',
    { details: { operation } },
  );

export const engineStopped = (operation: string): DistCacheError =>
  new DistCacheError('E_ENGINE_STOPPED', `Cannot ${operation}: the engine was stopped`, {
    details: { operation },
  });

export const startFailed = (cause: unknown): DistCacheError =>
  new DistCacheError('E_START_FAILED', `Engine failed to start: ${errorText(cause)}`, { cause });

export const missingDependency = (feature: string, pkg: string): DistCacheError =>
  new DistCacheError(
    'E_MISSING_DEPENDENCY',
    `${feature} needs the optional dependency "${pkg}": install it with "npm install ${pkg}"`,
    { details: { package: pkg } },
  );

/**
 * What a data source (or anything else) threw, as text. Never throws: an error whose `message`
 * getter throws, or a thrown object with no `toString`, must not turn into a bare error of ours.
 */
export function errorText(cause: unknown): string {
  try {
    return cause instanceof Error ? String(cause.message) : String(cause);
  } catch {
    try {
      return Object.prototype.toString.call(cause);
    } catch {
      return '(a value that cannot be shown as text)';
    }
  }
}

function describe(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  switch (typeof value) {
    case 'string':
    case 'object':
      try {
        text = JSON.stringify(value) ?? Object.prototype.toString.call(value);
      } catch {
        text = errorText(value);
      }
      break;
    case 'function':
      text = 'a function';
      break;
    case 'symbol':
      text = value.toString();
      break;
    default:
      text = (value as { toString(): string }).toString();
  }
  return ` (got ${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

// Peer transport. `peer` is the "host:port" id; `reason` is a stable machine-readable word kept in
// `details.reason` (the message is for humans).

export const peerUnavailable = (
  peer: string,
  reason: string,
  problem: string,
  cause?: unknown,
): DistCacheError => {
  // The cause's text is added unless the problem already says it (a backoff names the error it
  // waits after: /healthz showed that message twice), without a "Peer X is unavailable" of its own.
  const text = cause === undefined ? '' : withoutPeerPrefix(peer, errorText(cause));
  const said = text === '' || problem.includes(text);
  return new DistCacheError(
    'E_PEER_UNAVAILABLE',
    `Peer ${peer} is unavailable: ${problem}${said ? '' : ` (${text})`}`,
    {
      cause,
      details: { peer, reason },
    },
  );
};

/** `message` without the "Peer X is unavailable: " that {@link peerUnavailable} puts first. */
export function withoutPeerPrefix(peer: string, message: string): string {
  const prefix = `Peer ${peer} is unavailable: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

export const peerProtocolError = (
  peer: string,
  reason: string,
  problem: string,
  cause?: unknown,
): DistCacheError =>
  new DistCacheError('E_PROTOCOL', `Peer protocol error with ${peer}: ${problem}`, {
    cause,
    details: { peer, reason },
  });

export const tooManyPeerRequests = (peer: string, limit: number): DistCacheError =>
  new DistCacheError(
    'E_TOO_MANY_REQUESTS',
    `Too many requests in flight to peer ${peer} (limit maxInFlightPerPeer = ${limit})`,
    { details: { peer, limit } },
  );

export const invalidFrame = (problem: string): DistCacheError =>
  new DistCacheError('E_PROTOCOL', `Invalid peer frame: ${problem}`, {
    details: { reason: 'invalid-frame' },
  });

export const listenFailed = (address: string, cause: unknown): DistCacheError => {
  const inUse = (cause as { code?: unknown } | undefined)?.code === 'EADDRINUSE';
  // The usual causes, named: another replica on this machine with the same port, or a second
  // engine in this process (a NestJS app importing DistCacheModule.forRoot twice).
  const hint = inUse
    ? ' (another process or another engine in this process listens there: give each node its own `port`, or 0 for a free one)'
    : '';
  return new DistCacheError(
    'E_PEER_UNAVAILABLE',
    `Cannot listen for peers on ${address}: ${errorText(cause)}${hint}`,
    { cause, details: { address, reason: 'listen-failed' } },
  );
};

export const discoveryFailed = (provider: string, problem: string, cause?: unknown): DistCacheError =>
  new DistCacheError('E_DISCOVERY_FAILED', `Discovery "${provider}" failed: ${problem}`, {
    cause,
    details: { provider },
  });

export const clusterQuorum = (members: number, minMembers: number, waitedMs: number): DistCacheError =>
  new DistCacheError(
    'E_CLUSTER_QUORUM',
    `Only ${members} of the required ${minMembers} cluster members answered within ${waitedMs}ms`,
    { details: { members, minMembers, waitedMs } },
  );

/** A peer refused this node's ping: its discovery does not list this node. */
export const notAMember = (peer: string, self: string): DistCacheError =>
  new DistCacheError(
    'E_NOT_A_MEMBER',
    `Node ${self} is not in the peer list of ${peer}; it cannot serve as a member for a node that does not route to it`,
    { details: { peer, self } },
  );

/** `start()` found peers that do not list this node, with a static list that will not change. */
export const notListedAtStart = (self: string, refusedBy: readonly string[]): DistCacheError =>
  new DistCacheError(
    'E_NOT_A_MEMBER',
    `Node ${self} is not in the static peer list of ${refusedBy.join(', ')}: every node must list every member, itself included. Add ${self} to their peers (or remove them from this node's list)`,
    { details: { self, refusedBy } },
  );

export const rateLimited = (scope: string, perSecond: number): DistCacheError =>
  new DistCacheError(
    'E_RATE_LIMITED',
    `Data-source calls of ${scope} are over their limit of ${perSecond}/s`,
    {
      details: { scope, perSecond },
    },
  );

export const circuitOpen = (keySpace: string, retryInMs: number): DistCacheError =>
  new DistCacheError(
    'E_CIRCUIT_OPEN',
    `The circuit breaker of keyspace "${keySpace}" is open after repeated data-source failures; next probe in about ${retryInMs}ms`,
    { details: { keySpace, retryInMs } },
  );
