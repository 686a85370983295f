import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retransmitLimit, TransmitLimitedQueue } from '../../../src/core/gossip/transmit-queue.js';

describe('retransmitLimit', () => {
  it('follows memberlist with a floor', () => {
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 1000)).toBe(16);
    expect(retransmitLimit(4, 10, 12)).toBe(12);
    expect(retransmitLimit(4, 1, 0)).toBe(4);
  });

  it('never decreases as the cluster grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1e6 }), (m, n) => {
        expect(retransmitLimit(m, n + 1)).toBeGreaterThanOrEqual(retransmitLimit(m, n));
      }),
    );
  });
});

describe('TransmitLimitedQueue', () => {
  it('hands every item out exactly `limit` times when nothing overflows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 50, max: 400 }),
        (sizes, limit, budget) => {
          const queue = new TransmitLimitedQueue<number>({ maxItems: 100 });
          sizes.forEach((size, i) => queue.enqueue(`m${i}`, i, size));
          const sent = new Map<number, number>();
          for (let round = 0; queue.size > 0; round++) {
            expect(round).toBeLessThan(10_000);
            const batch = queue.take(budget, limit);
            const bytes = batch.reduce((sum, i) => sum + sizes[i]!, 0);
            expect(bytes).toBeLessThanOrEqual(budget);
            expect(new Set(batch).size).toBe(batch.length);
            for (const i of batch) sent.set(i, (sent.get(i) ?? 0) + 1);
          }
          sizes.forEach((_, i) => expect(sent.get(i)).toBe(limit));
        },
      ),
    );
  });

  it('hands out items sent fewer times first, newer first among equals', () => {
    const queue = new TransmitLimitedQueue<string>();
    queue.enqueue('a', 'a', 10);
    queue.enqueue('b', 'b', 10);
    expect(queue.take(10, 5)).toEqual(['b']);
    expect(queue.take(10, 5)).toEqual(['a']);
    queue.enqueue('c', 'c', 10);
    expect(queue.take(20, 5)).toEqual(['c', 'b']);
    expect(queue.transmits('a')).toBe(1);
    expect(queue.transmits('b')).toBe(2);
  });

  it('orders by fewest sends in any history (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant<'add'>('add'), fc.integer({ min: 1, max: 5 })), {
          maxLength: 60,
        }),
        (ops) => {
          const queue = new TransmitLimitedQueue<string>({ maxItems: 1000 });
          let next = 0;
          for (const op of ops) {
            if (op === 'add') {
              queue.enqueue(`m${next}`, `m${next}`, 1);
              next += 1;
              continue;
            }
            const before = new Map(queue.items().map((id) => [id, queue.transmits(id)!]));
            const taken = queue.take(op, 100);
            const takenCounts = taken.map((id) => before.get(id)!);
            const leftCounts = [...before.entries()]
              .filter(([id]) => !taken.includes(id))
              .map(([, n]) => n);
            // Nothing left behind was sent fewer times than something taken.
            if (taken.length > 0 && leftCounts.length > 0) {
              expect(Math.min(...leftCounts)).toBeGreaterThanOrEqual(Math.max(...takenCounts));
            }
          }
        },
      ),
    );
  });

  it('stays bounded, evicting the most-sent item first', () => {
    const queue = new TransmitLimitedQueue<string>({ maxItems: 3 });
    queue.enqueue('a', 'a', 1);
    queue.enqueue('b', 'b', 1);
    queue.take(1, 10); // sends b
    queue.enqueue('c', 'c', 1);
    expect(queue.enqueue('d', 'd', 1)).toEqual(['b']);
    expect(queue.size).toBe(3);
    expect(queue.items()).toEqual(['a', 'c', 'd']);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.nat(200), (max, n) => {
        const q = new TransmitLimitedQueue<number>({ maxItems: max });
        for (let i = 0; i < n; i++) {
          q.enqueue(`m${i}`, i, 1);
          expect(q.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('a newer item invalidates an older one with the same key', () => {
    const queue = new TransmitLimitedQueue<string>();
    queue.enqueue('v1', 'node-a alive 1', 5, 'node-a');
    queue.enqueue('x', 'other', 5);
    expect(queue.enqueue('v2', 'node-a alive 2', 5, 'node-a')).toEqual(['node-a alive 1']);
    expect(queue.items()).toEqual(['other', 'node-a alive 2']);
    expect(queue.has('v1')).toBe(false);
  });

  it('drops items already at a limit that shrank, and skips items larger than the budget', () => {
    const queue = new TransmitLimitedQueue<string>();
    queue.enqueue('a', 'a', 1);
    queue.take(1, 10);
    queue.take(1, 10);
    expect(queue.take(1, 2)).toEqual([]);
    expect(queue.size).toBe(0);
    queue.enqueue('big', 'big', 100);
    queue.enqueue('small', 'small', 5);
    expect(queue.take(50, 3)).toEqual(['small']);
    expect(() => queue.enqueue('z', 'z', 0)).toThrow(RangeError);
    expect(() => new TransmitLimitedQueue({ maxItems: 0 })).toThrow(RangeError);
  });
});
