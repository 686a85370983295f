// Property tests for the decoders of what the audit trail reads back from disk (rows,
// head, checkpoint): whatever the file holds, they answer with a value, never a throw,
// and they accept exactly what the trail writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAuditRow,
  DEFAULT_AUDIT_ENTRY_LIMITS,
  hashAuditEntry,
} from '../../../src/governance/audit/audit-entry.js';
import { canonicalJson, GENESIS_HASH } from '../../../src/governance/audit/canonical.js';
import {
  decodeCheckpoint,
  decodeHead,
  encodeCheckpoint,
  encodeHead,
  sealCheckpoint,
} from '../../../src/governance/audit/checkpoint.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** Any SQLite value: what a column of an edited file can hold. */
const sqliteValue = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
  fc.json(),
  hex64,
);

const validRow = fc
  .record({
    seq: fc.integer({ min: 1, max: 1_000_000 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    user_id: fc.string({ minLength: 1, maxLength: 20 }),
    resource_id: fc.string({ minLength: 1, maxLength: 20 }),
    operation: fc.string({ minLength: 1, maxLength: 20 }),
    policy_ids: fc
      .uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 4 })
      .map((a) => JSON.stringify(a)),
    outcome: fc.constantFrom('allowed', 'denied', 'error'),
    required_actions: fc
      .subarray(['audit', 'encrypt', 'notify', 'quarantine'])
      .map((a) => JSON.stringify(a)),
    message: fc.string({ maxLength: 50 }),
    prev_hash: hex64,
    hash: hex64,
    mac: fc.option(hex64, { nil: null }),
  })
  .filter(
    (row) =>
      !/[\uD800-\uDFFF]/.test(
        row.user_id + row.resource_id + row.operation + row.message + row.policy_ids,
      ),
  );

describe('audit row decoder', () => {
  it('never throws on arbitrary row contents', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.dictionary(
            fc.constantFrom(
              'seq',
              'timestamp',
              'user_id',
              'resource_id',
              'operation',
              'policy_ids',
              'outcome',
              'required_actions',
              'message',
              'prev_hash',
              'hash',
              'mac',
            ),
            sqliteValue,
          ),
          // A valid row with one column replaced by anything.
          fc
            .tuple(
              validRow,
              fc.constantFrom(
                'seq',
                'timestamp',
                'user_id',
                'policy_ids',
                'required_actions',
                'outcome',
                'hash',
                'mac',
              ),
              sqliteValue,
            )
            .map(([row, key, value]) => ({ ...row, [key]: value })),
        ),
        (row) => {
          const decoded = decodeAuditRow(row);
          expect(typeof decoded.ok).toBe('boolean');
          if (!decoded.ok) expect(decoded.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('accepts every well-formed row and round-trips its fields', () => {
    fc.assert(
      fc.property(validRow, (row) => {
        const decoded = decodeAuditRow(row);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        expect(decoded.entry.seq).toBe(row.seq);
        expect(JSON.stringify(decoded.entry.policyIds)).toBe(row.policy_ids);
        expect(decoded.mac).toBe(row.mac);
        // Hashing a decoded entry is deterministic and independent of the stored hash.
        expect(hashAuditEntry(decoded.entry)).toBe(
          hashAuditEntry({ ...decoded.entry, hash: 'x' } as never),
        );
      }),
    );
  });

  it('rejects oversize fields', () => {
    const row = {
      seq: 1,
      timestamp: 0,
      user_id: 'u',
      resource_id: 'r',
      operation: 'o',
      policy_ids: '[]',
      outcome: 'allowed',
      required_actions: '[]',
      message: 'm',
      prev_hash: GENESIS_HASH,
      hash: GENESIS_HASH,
      mac: null,
    };
    expect(decodeAuditRow(row).ok).toBe(true);
    expect(
      decodeAuditRow({
        ...row,
        message: 'x'.repeat(DEFAULT_AUDIT_ENTRY_LIMITS.maxMessageBytes + 1),
      }).ok,
    ).toBe(false);
    expect(
      decodeAuditRow({
        ...row,
        policy_ids: JSON.stringify(Array.from({ length: 65 }, (_, i) => `p${i}`)),
      }).ok,
    ).toBe(false);
    expect(decodeAuditRow({ ...row, policy_ids: `[${'"a",'.repeat(1_000_000)}"a"]` }).ok).toBe(
      false,
    );
  });
});

describe('head and checkpoint decoders', () => {
  it('never throw and accept what is encoded', () => {
    const key = new Uint8Array(32).fill(1);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (stored) => {
        expect(['object', 'string']).toContain(typeof decodeHead(stored, key));
        expect(['object', 'string']).toContain(typeof decodeCheckpoint(stored, undefined));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.nat(),
        hex64,
        fc.nat(),
        fc.option(fc.constant(key), { nil: undefined }),
        (seq, hash, timestamp, k) => {
          expect(decodeHead(encodeHead({ seq, hash, timestamp }, k), k)).toEqual({
            seq,
            hash,
            timestamp,
          });
          const cp = sealCheckpoint(
            {
              seq: seq + 1,
              lastHash: hash,
              lastTimestamp: timestamp,
              removedCount: 1,
              totalRemoved: 2,
              compactedAt: timestamp,
              previousSeal: GENESIS_HASH,
            },
            k,
          );
          expect(decodeCheckpoint(encodeCheckpoint(cp), k)).toEqual(cp);
        },
      ),
    );
  });
});

describe('canonical encoding', () => {
  it('is independent of key order and matches JSON for integer data', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const text = canonicalJson(v as never);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        const reversed = JSON.parse(text, (_k, val: unknown) =>
          val !== null && typeof val === 'object' && !Array.isArray(val)
            ? Object.fromEntries(Object.entries(val).reverse())
            : val,
        );
        expect(canonicalJson(reversed)).toBe(text);
      }),
    );
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(() => canonicalJson(1.5)).toThrow(/safe integers/);
    expect(() => canonicalJson(-0)).toThrow(/safe integers/);
  });
});
