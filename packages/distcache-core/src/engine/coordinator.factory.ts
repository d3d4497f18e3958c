import type { ClusterCoordinator } from '../cluster/coordinator';
import { PeerCoordinator } from '../cluster/peer.coordinator';
import { StandaloneCoordinator } from '../cluster/standalone.coordinator';
import { isStandalone } from '../discovery/standalone.discovery';
import { TcpPeerTransport } from '../transport/tcp-peer-transport';
import type { PeerTransport } from '../transport/transport';
import type { PeerEvent } from '../cluster/peer-event';
import type { ResolvedEngineOptions } from './engine.options';

/** What the coordinator reports back to the engine. */
export interface CoordinatorHooks {
  /** Wraps each transport the coordinator makes (telemetry). */
  readonly wrapTransport: (transport: PeerTransport) => PeerTransport;
  readonly onPeerEvent: (event: PeerEvent) => void;
}

/**
 * The standalone coordinator for the standalone discovery provider, the peer coordinator over a TCP
 * (or TLS) transport for every other one. Transport options, TLS material included, are validated
 * here, at engine construction.
 */
export function createCoordinator(
  options: ResolvedEngineOptions,
  hooks: CoordinatorHooks,
): ClusterCoordinator {
  const {
    discovery,
    nodeName,
    host,
    port,
    advertiseHost,
    cluster,
    tls,
    clock,
    logger,
    clusterOptions,
    transportOptions,
  } = options;
  if (isStandalone(discovery))
    return new StandaloneCoordinator(discovery, { host: advertiseHost, port, nodeName });
  const peerOptions = {
    ...transportOptions,
    nodeId: nodeName,
    cluster,
    host,
    port,
    advertiseHost,
    tls,
    clock,
    logger,
  };
  new TcpPeerTransport(peerOptions);
  return new PeerCoordinator({
    nodeName,
    bind: { host, port },
    advertiseHost,
    discovery,
    createTransport: () => hooks.wrapTransport(new TcpPeerTransport(peerOptions)),
    clock,
    logger,
    options: clusterOptions,
    onEvent: hooks.onPeerEvent,
  });
}
