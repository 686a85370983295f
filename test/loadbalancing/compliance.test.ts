import { describe, expect, it } from 'vitest';
import { LOAD_BALANCING_ALGORITHMS } from '../../src/contracts/load-balancing-algorithm.js';
import {
  LOAD_BALANCER_NAMES,
  LOAD_BALANCER_VARIANTS,
  createLoadBalancer,
} from '../../src/loadbalancing/factory.js';
import { isObservedLoadBalancer } from '../../src/loadbalancing/observed-load-balancer.js';
import { loadBalancerStrategyCompliance } from '../../src/testing/compliance/load-balancer.js';

// Every algorithm value and every variant name, each a fresh strategy per test.
for (const name of [...LOAD_BALANCING_ALGORITHMS, ...LOAD_BALANCER_VARIANTS]) {
  loadBalancerStrategyCompliance(
    `createLoadBalancer('${name}')`,
    () => ({ subject: createLoadBalancer(name) }),
    {
      whenAllUnhealthy: 'panic',
    },
  );
}

describe('createLoadBalancer', () => {
  it('builds the algorithm asked for, with a precise name', () => {
    const expected: Record<string, [string, string]> = {
      'round-robin': ['round-robin', 'round-robin'],
      'weighted-round-robin': ['weighted-round-robin', 'weighted-round-robin/smooth'],
      random: ['random', 'random'],
      'weighted-random': ['random', 'random/weighted'],
      'least-connections': ['least-connections', 'least-connections/p2c'],
      'least-request': ['least-connections', 'least-connections/p2c'],
      'latency-based': ['latency-based', 'latency-based/ewma'],
      'peak-ewma': ['latency-based', 'latency-based/peak-ewma'],
      'consistent-hashing': ['consistent-hashing', 'consistent-hashing/ring'],
      'ring-hash': ['consistent-hashing', 'consistent-hashing/ring'],
      maglev: ['consistent-hashing', 'consistent-hashing/maglev'],
      'bounded-load': ['consistent-hashing', 'consistent-hashing/bounded-load'],
      'resource-aware': ['resource-aware', 'resource-aware/headroom'],
      adaptive: ['adaptive', 'adaptive'],
    };
    for (const [name, [algorithm, algorithmName]] of Object.entries(expected)) {
      const balancer = createLoadBalancer(name);
      expect([name, balancer.algorithm, balancer.algorithmName]).toEqual([
        name,
        algorithm,
        algorithmName,
      ]);
      expect(isObservedLoadBalancer(balancer)).toBe(true);
    }
  });

  it('accepts every precise name it produces, and variants through options', () => {
    for (const name of LOAD_BALANCER_NAMES) {
      const balancer = createLoadBalancer(name);
      expect(createLoadBalancer(balancer.algorithmName).algorithmName).toBe(balancer.algorithmName);
    }
    expect(createLoadBalancer('consistent-hashing', { variant: 'maglev' }).algorithmName).toBe(
      'consistent-hashing/maglev',
    );
    expect(createLoadBalancer('latency-based', { variant: 'peak-ewma' }).algorithmName).toBe(
      'latency-based/peak-ewma',
    );
    expect(createLoadBalancer('least-connections', { choiceCount: 3 }).algorithmName).toBe(
      'least-connections/p3c',
    );
  });

  it('rejects unknown names and bad options with INVALID_ARGUMENT', () => {
    expect(() => createLoadBalancer('fastest')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createLoadBalancer('consistent-hashing', { variant: 'peak-ewma' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createLoadBalancer('least-request', { choiceCount: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createLoadBalancer('round-robin', { panicThreshold: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
