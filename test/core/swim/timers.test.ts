import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { Awareness } from '../../../src/core/swim/awareness.js';
import {
  baseSuspicionTimeoutMs,
  failureDetectionBoundMs,
  maxSuspicionTimeoutMs,
  pushPullIntervalFor,
  resolveSwimConfig,
  SWIM_LAN_CONFIG,
  SWIM_LOCAL_CONFIG,
  SWIM_WAN_CONFIG,
} from '../../../src/core/swim/config.js';
import { MemberTable, type SwimMemberRecord } from '../../../src/core/swim/member-table.js';
import { Suspicion, suspicionTimeoutAfter } from '../../../src/core/swim/suspicion.js';
import { createSeededRandom } from '../../../src/core/random/seeded-random.js';

describe('SWIM config', () => {
  it('has memberlist defaults in its profiles', () => {
    expect(SWIM_LAN_CONFIG).toMatchObject({
      probeIntervalMs: 1_000,
      probeTimeoutMs: 500,
      indirectChecks: 3,
      suspicionMult: 4,
      suspicionMaxTimeoutMult: 6,
      retransmitMult: 4,
      gossipIntervalMs: 200,
      pushPullIntervalMs: 30_000,
      lifeguard: true,
    });
    expect(SWIM_WAN_CONFIG).toMatchObject({
      probeIntervalMs: 5_000,
      probeTimeoutMs: 3_000,
      suspicionMult: 6,
    });
    expect(SWIM_LOCAL_CONFIG).toMatchObject({
      probeTimeoutMs: 200,
      indirectChecks: 1,
      suspicionMult: 3,
    });
    expect(resolveSwimConfig({}, 'wan')).toEqual(SWIM_WAN_CONFIG);
  });

  it('refuses settings out of range', () => {
    for (const bad of [
      { probeIntervalMs: 0 },
      { probeTimeoutMs: 2_000 },
      { indirectChecks: 1.5 },
      { maxPacketBytes: 100 },
      { pushPullIntervalMs: -1 },
      { lifeguard: 'yes' as unknown as boolean },
    ]) {
      expect(() => resolveSwimConfig(bad)).toThrow(DistributedError);
    }
    expect(() => resolveSwimConfig({}, 'moon' as 'lan')).toThrow(/unknown SWIM profile/);
  });

  it('scales the suspicion timeout with log10(N) and the push-pull period with log2(N)', () => {
    const lan = SWIM_LAN_CONFIG;
    expect(baseSuspicionTimeoutMs(lan, 1)).toBe(4_000);
    expect(baseSuspicionTimeoutMs(lan, 10)).toBe(4_000);
    expect(baseSuspicionTimeoutMs(lan, 100)).toBe(8_000);
    expect(baseSuspicionTimeoutMs(lan, 1_000)).toBe(12_000);
    expect(maxSuspicionTimeoutMs(lan, 100)).toBe(48_000);
    expect(maxSuspicionTimeoutMs({ ...lan, lifeguard: false }, 100)).toBe(8_000);
    expect(pushPullIntervalFor(lan, 32)).toBe(30_000);
    expect(pushPullIntervalFor(lan, 64)).toBe(60_000);
    expect(pushPullIntervalFor(lan, 500)).toBe(150_000);
    expect(failureDetectionBoundMs(lan, 10)).toBe(10_000 + 24_000 + 2_000);
  });
});

describe('Lifeguard suspicion timer', () => {
  it('starts at max, shrinks logarithmically with confirmations, never below min', () => {
    const s = new Suspicion('a', 1_000, 2, 4_000, 24_000);
    expect(s.deadline).toBe(25_000);
    expect(s.confirm('a')).toBe(false); // the accuser itself does not confirm
    expect(s.confirm('b')).toBe(true);
    expect(s.deadline).toBe(1_000 + Math.floor(24_000 - (Math.log(2) / Math.log(3)) * 20_000));
    expect(s.confirm('b')).toBe(false);
    expect(s.confirm('c')).toBe(true);
    expect(s.deadline).toBe(5_000);
    expect(s.confirm('d')).toBe(false); // k reached
    expect(s.confirmations).toBe(2);
    expect(new Suspicion('a', 0, 0, 4_000, 24_000).deadline).toBe(4_000);
  });

  it('the timeout is monotone in confirmations and bounded by min and max', () => {
    fc.assert(
      fc.property(
        fc.nat(10),
        fc.nat(10),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(50_000),
        (n, k, min, extra) => {
          const max = min + extra;
          const t = suspicionTimeoutAfter(Math.min(n, k), k, min, max);
          expect(t).toBeGreaterThanOrEqual(min);
          expect(t).toBeLessThanOrEqual(max);
          if (n < k) expect(suspicionTimeoutAfter(n + 1, k, min, max)).toBeLessThanOrEqual(t);
        },
      ),
    );
  });

  it('awareness stays within [0, max − 1] and scales timeouts by score + 1', () => {
    const a = new Awareness(8);
    expect(a.apply(-1)).toBe(0);
    expect(a.apply(3)).toBe(3);
    expect(a.scale(500)).toBe(2_000);
    expect(a.apply(100)).toBe(7);
    expect(a.multiplier).toBe(8);
    expect(() => new Awareness(0)).toThrow(RangeError);
  });
});

describe('randomised round-robin probe order', () => {
  const record = (nodeId: string): SwimMemberRecord => ({
    nodeId,
    host: nodeId,
    port: 1,
    incarnation: 0,
    status: 'alive',
    meta: {},
    since: 0,
    snapshot: undefined,
  });

  it('probes every live member exactly once per pass, in a fresh order each pass', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.nat(), (n, seed) => {
        const table = new MemberTable('self', 100, createSeededRandom(seed));
        table.add(record('self'));
        for (let i = 0; i < n; i++) table.add(record(`m${i}`));
        let passes = 0;
        const seen: string[] = [];
        while (passes < 3) {
          const target = table.nextProbeTarget(() => {
            passes += 1;
          });
          if (passes >= 3) break;
          seen.push(target!.nodeId);
        }
        // Whole passes: each member once per pass.
        const first = seen.slice(-2 * n);
        expect(new Set(first.slice(0, n)).size).toBe(n);
        expect(new Set(first.slice(n)).size).toBe(n);
        expect(first.includes('self')).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('skips dead and left members and inserts newcomers without repeating a member in a pass', () => {
    const table = new MemberTable('self', 100, createSeededRandom(3));
    table.add(record('self'));
    const a = record('a');
    table.add(a);
    table.add(record('b'));
    table.setStatus(a, 'dead', 5);
    expect(table.liveCount).toBe(2);
    const order = [0, 1, 2, 3].map(() => table.nextProbeTarget(() => undefined)?.nodeId);
    expect(order).toEqual(['b', 'b', 'b', 'b']);
    expect(table.remove('a')).toBe(a);
    expect(table.add(record('b'))).toBe(false);
  });
});
