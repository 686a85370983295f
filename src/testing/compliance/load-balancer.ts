/**
 * The behavioural tests every {@link LoadBalancerStrategy} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../contracts/cluster-membership.js';
import { DistributedError } from '../../contracts/errors.js';
import type {
  LoadBalancerContext,
  LoadBalancerStrategy,
  NodeHealthReport,
} from '../../contracts/load-balancer.js';
import { LOAD_BALANCING_ALGORITHMS } from '../../contracts/load-balancing-algorithm.js';
import type { ComplianceFactory } from './factory.js';
import { thrownCode } from './error-code.js';
import { withSubject } from './factory.js';

function node(nodeId: string): ClusterNode {
  return {
    nodeId,
    address: '127.0.0.1',
    port: 7000,
    role: 'follower',
    status: 'active',
    joinedAt: 0,
    metadata: {},
  };
}

function context(nodes: readonly ClusterNode[], requestKey = 'key-1'): LoadBalancerContext {
  return { requestKey, availableNodes: nodes, metadata: {} };
}

function report(status?: NodeHealthReport['status']): NodeHealthReport {
  return {
    cpuUsage: 10,
    memoryUsage: 20,
    activeConnections: 1,
    averageLatencyMs: 5,
    reportedAt: 1,
    ...(status === undefined ? {} : { status }),
  };
}

/**
 * Options of {@link loadBalancerStrategyCompliance}: which of the behaviours the
 * contract allows the implementation shows.
 *
 * @since 2.0.0
 */
export interface LoadBalancerComplianceOptions {
  /**
   * What selection does when every candidate is reported unhealthy:
   * `NO_HEALTHY_NODES` (throw, the default) or `panic` (spread over the
   * candidates anyway, returning one of them: a panic threshold).
   */
  readonly whenAllUnhealthy?: 'NO_HEALTHY_NODES' | 'panic';
}

/**
 * Registers the {@link LoadBalancerStrategy} compliance tests with Vitest. Call it
 * inside a test file; the factory gives each test a fresh strategy with no
 * health reports recorded.
 *
 * @example
 * ```ts
 * loadBalancerStrategyCompliance('InMemoryLoadBalancer', () => ({
 *   subject: new InMemoryLoadBalancer(),
 * }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh strategy for each test.
 * @param options - Which allowed behaviours the implementation shows.
 * @since 2.0.0
 */
export function loadBalancerStrategyCompliance(
  name: string,
  factory: ComplianceFactory<LoadBalancerStrategy>,
  options: LoadBalancerComplianceOptions = {},
): void {
  const whenAllUnhealthy = options.whenAllUnhealthy ?? 'NO_HEALTHY_NODES';
  const test = (title: string, body: (subject: LoadBalancerStrategy) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };
  const nodes = [node('node-a'), node('node-b'), node('node-c')];

  describe(`LoadBalancerStrategy compliance: ${name}`, () => {
    test('names a known algorithm', (strategy) => {
      expect(LOAD_BALANCING_ALGORITHMS).toContain(strategy.algorithm);
      expect(strategy.algorithmName).not.toBe('');
    });

    test('always picks one of the available nodes', async (strategy) => {
      const ids = nodes.map((candidate) => candidate.nodeId);
      for (let i = 0; i < 20; i += 1) {
        expect(ids).toContain(strategy.selectNode(context(nodes, `key-${i}`)).nodeId);
        expect(ids).toContain((await strategy.selectNodeAsync(context(nodes, `key-${i}`))).nodeId);
      }
    });

    test('an empty node list is NO_NODES_AVAILABLE', async (strategy) => {
      expect(thrownCode(() => strategy.selectNode(context([])))).toBe('NO_NODES_AVAILABLE');
      const failure: unknown = await strategy.selectNodeAsync(context([])).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(DistributedError);
      expect((failure as DistributedError).code).toBe('NO_NODES_AVAILABLE');
    });

    if (whenAllUnhealthy === 'NO_HEALTHY_NODES') {
      test('when every node is reported unhealthy it is NO_HEALTHY_NODES', async (strategy) => {
        for (const candidate of nodes)
          strategy.reportNodeHealth(candidate.nodeId, report('unhealthy'));
        expect(thrownCode(() => strategy.selectNode(context(nodes)))).toBe('NO_HEALTHY_NODES');
        const failure: unknown = await strategy
          .selectNodeAsync(context(nodes))
          .catch((e: unknown) => e);
        expect((failure as DistributedError).code).toBe('NO_HEALTHY_NODES');
      });
    } else {
      test('when every node is reported unhealthy it still picks one of them (panic)', async (strategy) => {
        for (const candidate of nodes)
          strategy.reportNodeHealth(candidate.nodeId, report('unhealthy'));
        const ids = nodes.map((candidate) => candidate.nodeId);
        for (let i = 0; i < 10; i += 1) {
          expect(ids).toContain(strategy.selectNode(context(nodes, `key-${i}`)).nodeId);
          expect(ids).toContain(
            (await strategy.selectNodeAsync(context(nodes, `key-${i}`))).nodeId,
          );
        }
      });
    }

    test('never picks a node whose latest report is unhealthy', (strategy) => {
      strategy.reportNodeHealth('node-b', report('unhealthy'));
      strategy.reportNodeHealth('node-a', report('healthy'));
      strategy.reportNodeHealth('node-c', report('degraded'));
      for (let i = 0; i < 30; i += 1) {
        expect(strategy.selectNode(context(nodes, `key-${i}`)).nodeId).not.toBe('node-b');
      }
    });

    test('the latest report replaces the previous verdict', (strategy) => {
      const pair = [node('node-a'), node('node-b')];
      strategy.reportNodeHealth('node-a', report('unhealthy'));
      expect(strategy.selectNode(context(pair)).nodeId).toBe('node-b');
      strategy.reportNodeHealth('node-a', report('healthy'));
      strategy.reportNodeHealth('node-b', report('unhealthy'));
      expect(strategy.selectNode(context(pair)).nodeId).toBe('node-a');
    });

    test('a report without status keeps the previous verdict', (strategy) => {
      const pair = [node('node-a'), node('node-b')];
      strategy.reportNodeHealth('node-a', report('unhealthy'));
      strategy.reportNodeHealth('node-a', report());
      for (let i = 0; i < 10; i += 1) {
        expect(strategy.selectNode(context(pair, `key-${i}`)).nodeId).toBe('node-b');
      }
    });

    test('a node may be reported before it is ever a candidate', (strategy) => {
      strategy.reportNodeHealth('node-z', report('unhealthy'));
      const withZ = [node('node-z'), node('node-a')];
      for (let i = 0; i < 10; i += 1) {
        expect(strategy.selectNode(context(withZ, `key-${i}`)).nodeId).toBe('node-a');
      }
    });

    test('an invalid report is INVALID_ARGUMENT and changes nothing', (strategy) => {
      const pair = [node('node-a'), node('node-b')];
      strategy.reportNodeHealth('node-a', report('unhealthy'));
      const invalid: NodeHealthReport[] = [
        { ...report('healthy'), cpuUsage: -1 },
        { ...report('healthy'), memoryUsage: Number.NaN },
        { ...report('healthy'), activeConnections: -3 },
        { ...report('healthy'), averageLatencyMs: Number.POSITIVE_INFINITY },
      ];
      for (const bad of invalid) {
        expect(thrownCode(() => strategy.reportNodeHealth('node-a', bad))).toBe('INVALID_ARGUMENT');
      }
      expect(thrownCode(() => strategy.reportNodeHealth('', report('healthy')))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(strategy.selectNode(context(pair)).nodeId).toBe('node-b');
    });

    test('an aborted signal rejects selectNodeAsync with its reason', async (strategy) => {
      const reason = new Error('cancelled by test');
      await expect(
        strategy.selectNodeAsync(context(nodes), { signal: AbortSignal.abort(reason) }),
      ).rejects.toBe(reason);
    });
  });
}
