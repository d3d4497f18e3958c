import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../errors/distcache-error';
import { resolveKubernetesDiscoveryOptions } from './kubernetes.options';

describe('resolveKubernetesDiscoveryOptions', () => {
  it('fills defaults and converts durations to milliseconds', () => {
    expect(resolveKubernetesDiscoveryOptions({ labelSelector: ' app=catalogue ' })).toEqual({
      labelSelector: 'app=catalogue',
      namespace: undefined,
      portName: 'distcache',
      config: { kind: 'in-cluster' },
      retryDelayMs: 500,
      maxRetryDelayMs: 30_000,
      requestTimeoutMs: 10_000,
      watchTimeoutMs: 300_000,
    });
  });

  it('picks the configuration source from kubeconfig and context', () => {
    const resolve = (extra: object) =>
      resolveKubernetesDiscoveryOptions({ labelSelector: 'app=x', ...extra }).config;
    expect(resolve({ context: 'staging' })).toEqual({ kind: 'file', path: undefined, context: 'staging' });
    expect(resolve({ kubeconfig: '/etc/kube/config' })).toEqual({
      kind: 'file',
      path: '/etc/kube/config',
      context: undefined,
    });
    const kubeConfig = { makeApiClient: () => undefined, getCurrentCluster: () => null };
    expect(resolve({ kubeconfig: kubeConfig })).toEqual({ kind: 'object', kubeConfig });
  });

  it.each([
    'app=catalogue',
    'app==catalogue,tier!=canary',
    'app.kubernetes.io/name=catalogue',
    'app in (cache, api),!legacy',
    'environment notin (dev),release',
    'app=',
  ])('accepts the selector %j', (labelSelector) => {
    expect(resolveKubernetesDiscoveryOptions({ labelSelector }).labelSelector).toBe(labelSelector);
  });

  it.each(['app=a b', 'app in (x', 'app in ((x))', '=x', 'app=x,', 'app>1', 'app=-x'])(
    'rejects the selector %j naming the field',
    (labelSelector) => {
      let error: unknown;
      try {
        resolveKubernetesDiscoveryOptions({ labelSelector });
      } catch (caught) {
        error = caught;
      }
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toContain('discovery.labelSelector');
    },
  );

  it('accepts valid names and rejects invalid ones', () => {
    const resolve = (extra: object) => () =>
      resolveKubernetesDiscoveryOptions({ labelSelector: 'a=b', ...extra });
    expect(resolve({ namespace: 'shop-1', portName: 'peer-2' })()).toMatchObject({
      namespace: 'shop-1',
      portName: 'peer-2',
    });
    expect(resolve({ namespace: '-shop' })).toThrow(/discovery\.namespace/);
    expect(resolve({ namespace: 'a'.repeat(64) })).toThrow(/discovery\.namespace/);
    expect(resolve({ portName: 'peer--2' })).toThrow(/discovery\.portName/);
    expect(resolve({ portName: 'Peer' })).toThrow(/discovery\.portName/);
    expect(resolve({ kubeconfig: '' })).toThrow(/discovery\.kubeconfig/);
    expect(() => resolveKubernetesDiscoveryOptions(undefined as never)).toThrow(/"discovery"/);
  });

  it('refuses a misspelt option, naming the one meant', () => {
    expect(() =>
      resolveKubernetesDiscoveryOptions({ labelSelector: 'a=b', namepsace: 'shop' } as never),
    ).toThrow(
      'Invalid option "discovery.namepsace": is not a known kubernetesDiscovery option; did you mean "namespace"?',
    );
  });
});
