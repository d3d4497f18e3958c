// What a data source threw, in a form that crosses the peer protocol (docs/protocol.md, ERROR
// detail), and the error rebuilt from it on the asking node. Generic on purpose: the core knows
// nothing of Nest, but an HTTP exception (anything with `getStatus()`/`getResponse()`, or a numeric
// `status`) keeps its status and response body, so an integration can rebuild its own class.

import { isDistCacheError, readProperty } from './distcache-error';
import { errorText } from './messages';
import type { DistCacheErrorCode } from './error-codes';

/** An error described for another node. */
export interface ErrorDetail {
  /** The error's `name` (`NotFoundException`, `TypeError`...). */
  readonly name: string;
  readonly message: string;
  /** The error's `code` when it has a string one (`ECONNREFUSED`, `E_...`). */
  readonly code?: string;
  /** HTTP status, when the error carries one (`getStatus()`, or a numeric `status`). */
  readonly status?: number;
  /** HTTP response body (`getResponse()`): a string or a JSON value. */
  readonly response?: unknown;
}

const BRAND = Symbol.for('distcache.remoteError');

/**
 * An error thrown by a data source on another node (the key's owner), rebuilt here from its
 * {@link ErrorDetail}: same `name`, `message` and `code`, plus `status` and `response` when the
 * original was an HTTP exception. It is the `cause` of the `E_DATASOURCE_FAILED` the caller gets.
 */
export class RemoteError extends Error {
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly response: unknown;
  /** Id (`host:port`) of the node where the original error was thrown. */
  readonly peer: string;

  constructor(detail: ErrorDetail, peer: string) {
    super(detail.message);
    this.name = detail.name;
    this.code = detail.code;
    this.status = detail.status;
    this.response = detail.response;
    this.peer = peer;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True when `error` is a {@link RemoteError}; works across duplicate installs of the package. */
export function isRemoteError(error: unknown): error is RemoteError {
  return typeof error === 'object' && error !== null && readProperty(error, BRAND) === true;
}

/**
 * Describes an error for another node; undefined for a value that is not an object. A rebuilt
 * {@link RemoteError} describes as the original did, so a detail survives a second hop.
 */
export function describeError(error: unknown): ErrorDetail | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const source = error as Record<string, unknown>;
  const name = readProperty(source, 'name');
  const message = readProperty(source, 'message');
  const detail: { -readonly [K in keyof ErrorDetail]: ErrorDetail[K] } = {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : '',
  };
  const code = readProperty(source, 'code');
  if (typeof code === 'string') detail.code = code;
  const status = callOr(source, 'getStatus', readProperty(source, 'status'));
  if (typeof status === 'number' && Number.isInteger(status)) detail.status = status;
  const response = callOr(source, 'getResponse', readProperty(source, 'response'));
  if (detail.status !== undefined && response !== undefined) detail.response = response;
  return detail;
}

function callOr(source: Record<string, unknown>, method: string, fallback: unknown): unknown {
  const fn = readProperty(source, method);
  if (typeof fn !== 'function') return fallback;
  try {
    return (fn as () => unknown).call(source);
  } catch {
    return fallback;
  }
}

/**
 * Reads a detail decoded from the wire, keeping only well-typed fields; undefined when `name` or
 * `message` is missing.
 */
export function toErrorDetail(value: unknown): ErrorDetail | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || typeof v.message !== 'string') return undefined;
  const detail: { -readonly [K in keyof ErrorDetail]: ErrorDetail[K] } = { name: v.name, message: v.message };
  if (typeof v.code === 'string') detail.code = v.code;
  if (typeof v.status === 'number' && Number.isInteger(v.status)) detail.status = v.status;
  if (detail.status !== undefined && v.response !== undefined) detail.response = v.response;
  return detail;
}

/** What a node answers a peer for a failed request or key. */
export interface FailureAnswer {
  readonly code: DistCacheErrorCode;
  readonly message: string;
  /** What caused it (a data source's error), for requesters that read it. */
  readonly detail?: ErrorDetail;
  /** True when `error` was not a DistCacheError: a bug on this node, worth logging there. */
  readonly internal: boolean;
}

/**
 * The answer to a peer for `error`: a DistCacheError keeps its code and message and its cause
 * travels as a detail; anything else reads as this node failing (`E_PEER_UNAVAILABLE`).
 */
export function failureAnswer(error: unknown): FailureAnswer {
  if (isDistCacheError(error)) {
    const detail = error.cause === undefined ? undefined : describeError(error.cause);
    return detail === undefined
      ? { code: error.code, message: error.message, internal: false }
      : { code: error.code, message: error.message, detail, internal: false };
  }
  const message = errorText(error);
  return { code: 'E_PEER_UNAVAILABLE', message: `internal error on the peer: ${message}`, internal: true };
}
