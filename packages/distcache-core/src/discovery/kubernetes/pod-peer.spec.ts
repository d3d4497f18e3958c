import { describe, expect, it } from 'vitest';
import { podPeer, statusCodeOf } from './pod-peer';

const pod = (overrides: { metadata?: object; status?: object; spec?: object } = {}) => ({
  metadata: { name: 'cache-0', resourceVersion: '7', ...overrides.metadata },
  spec: overrides.spec ?? {
    containers: [
      { name: 'sidecar', ports: [{ name: 'metrics', containerPort: 9090 }] },
      {
        name: 'app',
        ports: [
          { name: 'http', containerPort: 8080 },
          { name: 'distcache', containerPort: 3320 },
        ],
      },
    ],
  },
  status: {
    phase: 'Running',
    podIP: '10.0.0.7',
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    ...overrides.status,
  },
});

describe('podPeer', () => {
  it('takes the pod IP, the named port from any container, and the pod name', () => {
    expect(podPeer(pod(), 'distcache')).toEqual({ host: '10.0.0.7', port: 3320, nodeName: 'cache-0' });
    expect(podPeer(pod(), 'metrics')).toEqual({ host: '10.0.0.7', port: 9090, nodeName: 'cache-0' });
  });

  it.each([
    ['not Running', pod({ status: { phase: 'Pending' } })],
    ['not Ready', pod({ status: { conditions: [{ type: 'Ready', status: 'False' }] } })],
    ['without conditions', pod({ status: { conditions: undefined } })],
    ['without a pod IP', pod({ status: { podIP: undefined } })],
    [
      'terminating (string timestamp, as in watch events)',
      pod({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    ],
    [
      'terminating (Date, as the client deserialises lists)',
      pod({ metadata: { deletionTimestamp: new Date(0) } }),
    ],
    ['without the named port', pod({ spec: { containers: [{ name: 'app' }] } })],
    [
      'with an out-of-range port',
      pod({ spec: { containers: [{ ports: [{ name: 'distcache', containerPort: 0 }] }] } }),
    ],
    ['without a name', pod({ metadata: { name: undefined } })],
    ['not an object', 'pod'],
  ])('is not a candidate when %s', (_why, candidate) => {
    expect(podPeer(candidate, 'distcache')).toBeUndefined();
  });

  it('reads status codes from Status objects, API exceptions and watch errors', () => {
    expect(statusCodeOf({ kind: 'Status', code: 410 })).toBe(410);
    expect(statusCodeOf(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410);
    expect(statusCodeOf(new Error('reset'))).toBeUndefined();
    expect(statusCodeOf(null)).toBeUndefined();
  });
});
