// Starts catalogue apps in this process, each a real Nest application listening on a loopback
// HTTP port, whose engines form one cluster over real TCP.
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { ClusterOptions, DistCacheEngine } from 'distcache-core';
import { DISTCACHE_ENGINE, DistCacheService } from '../../src';
import {
  type CatalogAppOptions,
  CatalogModule,
  CatalogService,
  PricingClient,
  ProductRepository,
} from './catalog.app';
import { FAST_CLUSTER, freePorts, waitUntil } from './net';

export type Platform = 'express' | 'fastify';

export interface CatalogNode {
  readonly name: string;
  /** `host:port` of the peer listener, as `ownerOf` reports owners. */
  readonly id: string;
  readonly app: INestApplication;
  readonly url: string;
  readonly catalog: CatalogService;
  readonly repository: ProductRepository;
  readonly pricing: PricingClient;
  readonly cache: DistCacheService;
  readonly engine: DistCacheEngine;
}

export interface ClusterSetup {
  platform?: Platform;
  clusterOptions?: ClusterOptions;
  /** Which nodes read their options through forRootAsync + ConfigService. */
  config?: (index: number) => CatalogAppOptions['config'];
  /** Ports listed as peers but not started, for apps that join later. @default 0 */
  spare?: number;
}

export interface CatalogCluster {
  readonly nodes: CatalogNode[];
  /** Every node's peer list (spare ports included). */
  readonly peers: string[];
  /** The spare ports, for `startNode`. */
  readonly sparePorts: number[];
  /** The database every app of the cluster shares. */
  readonly database: Map<string, string>;
}

export async function startNode(
  options: CatalogAppOptions,
  platform: Platform = 'express',
): Promise<CatalogNode> {
  const moduleRef = await Test.createTestingModule({ imports: [CatalogModule.register(options)] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return {
    name: options.nodeName,
    id: `127.0.0.1:${options.port}`,
    app,
    url: await app.getUrl(),
    catalog: app.get(CatalogService),
    repository: app.get(ProductRepository),
    pricing: app.get(PricingClient),
    cache: app.get(DistCacheService),
    engine: app.get<DistCacheEngine>(DISTCACHE_ENGINE),
  };
}

/** Starts `size` apps listing each other, and waits until every engine sees every member. */
export async function startCatalogCluster(size: number, setup: ClusterSetup = {}): Promise<CatalogNode[]> {
  return (await startCatalogClusterWithSpares(size, setup)).nodes;
}

/** Like `startCatalogCluster`, also returning the peer list and spare ports. */
export async function startCatalogClusterWithSpares(
  size: number,
  setup: ClusterSetup = {},
): Promise<CatalogCluster> {
  const allPorts = await freePorts(size + (setup.spare ?? 0));
  const ports = allPorts.slice(0, size);
  const peers = allPorts.map((port) => `127.0.0.1:${port}`);
  const database = new Map<string, string>();
  const nodes = await Promise.all(
    ports.map((port, index) =>
      startNode(
        {
          nodeName: `node-${String.fromCharCode(97 + index)}`,
          port,
          peers,
          clusterOptions: setup.clusterOptions ?? FAST_CLUSTER,
          config: setup.config?.(index),
          database,
        },
        setup.platform,
      ),
    ),
  );
  await waitUntil(() => nodes.every((node) => node.cache.stats().members === size), 10_000, 'all members');
  return { nodes, peers, sparePorts: allPorts.slice(size), database };
}

export async function closeAll(nodes: readonly CatalogNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.app.close()));
}

/** The node owning `key`, by the first node's ring (all agree once converged). */
export function ownerNode(nodes: readonly CatalogNode[], keySpace: string, key: string): CatalogNode {
  const id = nodes[0]!.cache.ownerOf(keySpace, key);
  const owner = nodes.find((node) => node.id === id);
  if (owner === undefined) throw new Error(`owner ${id} of ${keySpace}/${key} is not a test node`);
  return owner;
}

/** How many times each node ran `method` with this first argument. */
export function callsByNode(
  nodes: readonly CatalogNode[],
  method: string,
  firstArg?: unknown,
): Record<string, number> {
  return Object.fromEntries(nodes.map((node) => [node.name, node.repository.count(method, firstArg)]));
}

/** `callsByNode` expected when only `owner` ran the method, `count` times. */
export function onlyOn(nodes: readonly CatalogNode[], owner: CatalogNode, count = 1): Record<string, number> {
  return Object.fromEntries(nodes.map((node) => [node.name, node === owner ? count : 0]));
}

/**
 * 40 product ids from `first`: with the nodes' ports (and so the ring) random, five candidates were
 * all owned by one of three nodes about once in 240 runs; forty, never in practice.
 */
export function candidateKeys(first: number): string[] {
  return Array.from({ length: 40 }, (_, index) => String(first + index));
}

/** A key of `keySpace` that `node` does not own. */
export function keyNotOwnedBy(
  nodes: readonly CatalogNode[],
  node: CatalogNode,
  candidates: readonly string[],
): string {
  const key = candidates.find((candidate) => ownerNode(nodes, 'products', candidate) !== node);
  if (key === undefined) throw new Error(`every candidate key is owned by ${node.name}`);
  return key;
}
