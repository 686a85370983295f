import { runtimeCompliance } from '../../../src/testing/compliance/runtime.js';
import { idleCluster, settle } from './support.js';

// The simulator passes the same Runtime suite as the Node runtime.
runtimeCompliance('simulator', async () => {
  const { sim, rt } = await idleCluster(['a', 'b']);
  return {
    subject: {
      nodes: [rt('a'), rt('b')] as const,
      bindAddress: (node) => ({ host: node.nodeId, port: 0 }),
      settle: (promise) => settle(sim, promise),
    },
  };
});
