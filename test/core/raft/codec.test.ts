import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeConfigCommand,
  encodeConfigCommand,
  type ConfigCommand,
} from '../../../src/core/raft/config-state-machine.js';
import {
  decodeRaftConfigChange,
  decodeRaftEntry,
  decodeRaftHardState,
  decodeRaftMessage,
  decodeRaftSnapshot,
  encodeRaftConfigChange,
  encodeRaftEntry,
  encodeRaftHardState,
  encodeRaftMessage,
  encodeRaftSnapshot,
} from '../../../src/core/raft/message-codec.js';
import type { RaftEntry, RaftMessage } from '../../../src/core/raft/types.js';
import { WireError } from '../../../src/core/wire/wire-error.js';

const id = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const n = fc.integer({ min: 0, max: 2 ** 40 });
const membership = fc.uniqueArray(id, { maxLength: 6 }).chain((all) =>
  fc.integer({ min: 0, max: all.length }).map((k) => ({
    voters: all.slice(0, k).sort(),
    observers: all.slice(k).sort(),
  })),
);
const data = fc.uint8Array({ maxLength: 64 });

function entries(prevIndex: number, prevTerm: number, term: number): fc.Arbitrary<RaftEntry[]> {
  return fc
    .array(
      fc.tuple(
        fc.constantFrom('command', 'config', 'noop') as fc.Arbitrary<RaftEntry['type']>,
        data,
      ),
      {
        maxLength: 5,
      },
    )
    .map((items) =>
      items.map(([type, bytes], i) => ({
        index: prevIndex + 1 + i,
        term: Math.max(1, Math.min(term, prevTerm + i)),
        type,
        data: bytes,
      })),
    );
}

const message: fc.Arbitrary<RaftMessage> = fc
  .record({ from: id, to: id, term: fc.integer({ min: 1, max: 2 ** 40 }) })
  .chain((head) =>
    fc.oneof(
      fc
        .record({ lastIndex: n, lastTerm: fc.integer({ min: 0, max: head.term }) })
        .chain((v) => fc.constantFrom('pre-vote', 'vote').map((type) => ({ type, ...head, ...v }))),
      fc
        .record({
          reject: fc.boolean(),
          type: fc.constantFrom('pre-vote-response', 'vote-response'),
        })
        .map((v) => ({ ...head, ...v })),
      fc
        .record({
          prevIndex: fc.integer({ min: 0, max: 2 ** 30 }),
          prevTerm: fc.integer({ min: 0, max: head.term }),
          commit: n,
        })
        .chain((v) =>
          entries(v.prevIndex, Math.max(1, v.prevTerm), head.term).map((list) => ({
            type: 'append' as const,
            ...head,
            ...v,
            entries: list,
          })),
        ),
      fc
        .record({ index: n, reject: fc.boolean(), hintIndex: n, hintTerm: n })
        .map((v) => ({ type: 'append-response' as const, ...head, ...v })),
      fc.record({ commit: n, seq: n }).map((v) => ({ type: 'heartbeat' as const, ...head, ...v })),
      fc.record({ seq: n }).map((v) => ({ type: 'heartbeat-response' as const, ...head, ...v })),
      fc
        .record({
          index: fc.integer({ min: 1, max: 2 ** 40 }),
          term: fc.integer({ min: 0, max: head.term }),
          membership,
          chunk: data,
          before: fc.nat(100),
          after: fc.nat(100),
        })
        .map((v) => ({
          type: 'snapshot' as const,
          ...head,
          meta: { index: v.index, term: v.term, membership: v.membership },
          offset: v.before,
          total: v.before + v.chunk.length + v.after,
          data: v.chunk,
        })),
      fc
        .record({ index: n, nextOffset: n })
        .map((v) => ({ type: 'snapshot-response' as const, ...head, ...v })),
      fc.record({ id: n }).map((v) => ({ type: 'read-index' as const, ...head, ...v })),
      fc
        .record({ id: n, index: n, reject: fc.boolean() })
        .map((v) => ({ type: 'read-index-response' as const, ...head, ...v })),
    ),
  );

/** Decoding either succeeds or throws a WireError with a known reason; nothing else. */
function decodesOrRefuses(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(WireError);
    expect(['truncated', 'malformed', 'unsupported-version', 'limit-exceeded']).toContain(
      (error as WireError).reason,
    );
  }
}

describe('raft message codec', () => {
  it('round-trips every message', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeRaftMessage(encodeRaftMessage(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes are decoded or refused with a typed error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodesOrRefuses(() => decodeRaftMessage(bytes));
        decodesOrRefuses(() => decodeRaftEntry(bytes));
        decodesOrRefuses(() => decodeRaftSnapshot(bytes));
        decodesOrRefuses(() => decodeRaftHardState(bytes));
        decodesOrRefuses(() => decodeRaftConfigChange(bytes));
        decodesOrRefuses(() => decodeConfigCommand(bytes));
      }),
      { numRuns: 2_000 },
    );
  });

  it('mutated valid messages are decoded or refused with a typed error, never a crash', () => {
    fc.assert(
      fc.property(
        message,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        (m, flips, cut) => {
          const bytes = encodeRaftMessage(m);
          const mutated = bytes.slice();
          for (const [at, value] of flips) mutated[at % mutated.length] = value;
          decodesOrRefuses(() => decodeRaftMessage(mutated));
          decodesOrRefuses(() => decodeRaftMessage(bytes.subarray(0, cut % bytes.length)));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('refuses what breaks the protocol even when well-formed', () => {
    const append = encodeRaftMessage({
      type: 'append',
      from: 'a',
      to: 'b',
      term: 2,
      prevIndex: 4,
      prevTerm: 1,
      commit: 0,
      entries: [{ index: 6, term: 2, type: 'command', data: new Uint8Array() }],
    });
    expect(() => decodeRaftMessage(append)).toThrow(/not consecutive/);
    const future = encodeRaftMessage({
      type: 'append',
      from: 'a',
      to: 'b',
      term: 2,
      prevIndex: 4,
      prevTerm: 1,
      commit: 0,
      entries: [{ index: 5, term: 3, type: 'command', data: new Uint8Array() }],
    });
    expect(() => decodeRaftMessage(future)).toThrow(/out of order/);
    const big = encodeRaftMessage({
      type: 'heartbeat',
      from: 'a'.repeat(300),
      to: 'b',
      term: 1,
      commit: 0,
      seq: 0,
    });
    expect(() => decodeRaftMessage(big)).toThrow(
      expect.objectContaining({ reason: 'limit-exceeded' }),
    );
    const wrongVersion = encodeRaftMessage({
      type: 'heartbeat-response',
      from: 'a',
      to: 'b',
      term: 1,
      seq: 0,
    });
    wrongVersion[3] = 9;
    expect(() => decodeRaftMessage(wrongVersion)).toThrow(
      expect.objectContaining({ reason: 'unsupported-version' }),
    );
  });

  it('round-trips stored records', () => {
    const entry: RaftEntry = {
      index: 3,
      term: 2,
      type: 'config',
      data: encodeRaftConfigChange({ type: 'add-observer', nodeId: 'x' }),
    };
    expect(decodeRaftEntry(encodeRaftEntry(entry))).toEqual(entry);
    expect(decodeRaftConfigChange(entry.data)).toEqual({ type: 'add-observer', nodeId: 'x' });
    expect(decodeRaftHardState(encodeRaftHardState({ term: 9, vote: 'n2', commit: 7 }))).toEqual({
      term: 9,
      vote: 'n2',
      commit: 7,
    });
    const snapshot = {
      meta: { index: 5, term: 2, membership: { voters: ['a', 'b'], observers: ['c'] } },
      data: new Uint8Array([1, 2]),
    };
    expect(decodeRaftSnapshot(encodeRaftSnapshot(snapshot))).toEqual(snapshot);
  });
});

describe('config command codec', () => {
  const value = fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }));
  const command: fc.Arbitrary<ConfigCommand> = fc.oneof(
    fc.record({
      op: fc.constant('put' as const),
      key: fc.string({ minLength: 1, maxLength: 10 }),
      value,
    }),
    fc.record({
      op: fc.constant('delete' as const),
      key: fc.string({ minLength: 1, maxLength: 10 }),
    }),
    fc.record({
      op: fc.constant('cas' as const),
      key: fc.string({ minLength: 1, maxLength: 10 }),
      expectRevision: fc.nat(),
      value: fc.option(value, { nil: null }),
    }),
    fc.record({
      op: fc.constant('cas' as const),
      key: fc.string({ minLength: 1, maxLength: 10 }),
      expectValue: fc.option(value, { nil: null }),
      value: fc.option(value, { nil: null }),
    }),
  );

  it('round-trips, and mutations are refused with a typed error', () => {
    fc.assert(
      fc.property(command, fc.nat(), fc.integer({ min: 0, max: 255 }), (c, at, byte) => {
        // Lone surrogates cannot be encoded: the encoder refuses them up front.
        let bytes: Uint8Array;
        try {
          bytes = encodeConfigCommand(c);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
          return;
        }
        expect(decodeConfigCommand(bytes)).toEqual(c);
        const mutated = bytes.slice();
        mutated[at % mutated.length] = byte;
        decodesOrRefuses(() => decodeConfigCommand(mutated));
      }),
      { numRuns: 1_000 },
    );
  });
});
