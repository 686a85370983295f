import { describe, expect, it } from 'vitest';
import { agentArgs, type ClusterLaunch } from '../../bench/election/agent-args.js';
import { summarize } from '../../bench/election/stats.js';

const slots = [0, 1, 2].map((index) => ({
  nodeId: `n${String(index)}`,
  bindPort: 7000 + index,
  httpPort: 8000 + index,
  dataDir: `/data/n${String(index)}`,
}));

function valueOf(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

describe('election bench: agent arguments', () => {
  const native: ClusterLaunch = {
    membership: 'native',
    slots,
    raft: { tickMs: 50, electionTicks: 10 },
  };

  it('the founder starts without --join, the others join it, on fixed ports and data dirs', () => {
    const founder = agentArgs(slots[0]!, native, false);
    expect(founder).not.toContain('--join');
    expect(valueOf(founder, '--membership')).toBe('native');
    expect(valueOf(founder, '--bind')).toBe('127.0.0.1:7000');
    expect(valueOf(founder, '--http')).toBe('127.0.0.1:8000');
    expect(valueOf(founder, '--data-dir')).toBe('/data/n0');
    expect(valueOf(founder, '--node-id')).toBe('n0');
    expect(valueOf(founder, '--raft-tick-ms')).toBe('50');
    expect(valueOf(founder, '--raft-election-ticks')).toBe('10');
    expect(valueOf(agentArgs(slots[2]!, native, false), '--join')).toBe('127.0.0.1:7000');
  });

  it('a restarted agent, the founder too, is given every other member as a seed', () => {
    expect(valueOf(agentArgs(slots[0]!, native, true), '--join')).toBe(
      '127.0.0.1:7001,127.0.0.1:7002',
    );
    expect(valueOf(agentArgs(slots[1]!, native, true), '--join')).toBe(
      '127.0.0.1:7000,127.0.0.1:7002',
    );
  });

  it('without Raft timing the agent keeps its defaults; etcd membership gets endpoints, no raft flags', () => {
    const defaults = agentArgs(slots[1]!, { membership: 'native', slots }, false);
    expect(defaults).not.toContain('--raft-tick-ms');
    const etcd = agentArgs(
      slots[1]!,
      { membership: 'etcd', slots, etcdEndpoints: ['http://a:1', 'http://b:2'], etcdPrefix: '/p/' },
      false,
    );
    expect(valueOf(etcd, '--membership')).toBe('etcd');
    expect(valueOf(etcd, '--etcd-endpoints')).toBe('http://a:1,http://b:2');
    expect(valueOf(etcd, '--etcd-prefix')).toBe('/p/');
    expect(etcd).not.toContain('--join');
    expect(etcd).not.toContain('--raft-tick-ms');
  });
});

describe('election bench: summaries', () => {
  it('nearest-rank p50 and p99; p99 is the maximum below 100 samples', () => {
    const samples = Array.from({ length: 20 }, (_, index) => 20 - index); // 20..1, unordered input
    expect(summarize(samples)).toEqual({ p50: 10, p99: 20, max: 20, count: 20 });
    const many = Array.from({ length: 200 }, (_, index) => index + 1);
    expect(summarize(many).p99).toBe(198);
    expect(summarize([]).p50).toBeNaN();
  });
});
