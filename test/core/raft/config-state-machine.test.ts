import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigStateMachine,
  encodeConfigCommand,
  type ConfigCommand,
} from '../../../src/core/raft/config-state-machine.js';

const apply = (sm: ConfigStateMachine, index: number, command: ConfigCommand) =>
  sm.apply(index, encodeConfigCommand(command));

describe('ConfigStateMachine', () => {
  it('put, delete and read, with the log index as revision', () => {
    const sm = new ConfigStateMachine();
    expect(apply(sm, 1, { op: 'put', key: 'tier', value: 'hot' })).toMatchObject({
      ok: true,
      revision: 1,
      current: { key: 'tier', value: 'hot', revision: 1 },
    });
    apply(sm, 2, { op: 'put', key: 'blob', value: new Uint8Array([1, 2]) });
    expect(sm.get('blob')?.value).toEqual(new Uint8Array([1, 2]));
    expect(sm.keys()).toEqual(['blob', 'tier']);
    expect(apply(sm, 3, { op: 'delete', key: 'tier' })).toMatchObject({
      ok: true,
      previous: { value: 'hot' },
    });
    expect(sm.get('tier')).toBeUndefined();
    expect(sm.appliedIndex).toBe(3);
  });

  it('compare-and-set by revision and by value', () => {
    const sm = new ConfigStateMachine();
    expect(apply(sm, 1, { op: 'cas', key: 'k', expectRevision: 0, value: 'a' }).ok).toBe(true);
    expect(apply(sm, 2, { op: 'cas', key: 'k', expectRevision: 0, value: 'b' })).toMatchObject({
      ok: false,
      current: { value: 'a', revision: 1 },
    });
    expect(apply(sm, 3, { op: 'cas', key: 'k', expectRevision: 1, value: 'c' }).ok).toBe(true);
    expect(apply(sm, 4, { op: 'cas', key: 'k', expectValue: 'a', value: 'd' }).ok).toBe(false);
    expect(apply(sm, 5, { op: 'cas', key: 'k', expectValue: 'c', value: null }).ok).toBe(true);
    expect(sm.get('k')).toBeUndefined();
    expect(
      apply(sm, 6, { op: 'cas', key: 'k', expectValue: null, value: new Uint8Array([7]) }).ok,
    ).toBe(true);
    // Bytes and strings never compare equal.
    expect(apply(sm, 7, { op: 'cas', key: 'k', expectValue: '\u0007', value: 'x' }).ok).toBe(false);
  });

  it('a malformed entry fails the same way everywhere and changes nothing', () => {
    const sm = new ConfigStateMachine();
    expect(sm.apply(1, new Uint8Array([9, 9]))).toEqual({
      ok: false,
      revision: 1,
      error: 'malformed',
    });
    expect(sm.size).toBe(0);
  });

  it('bounds the number of keys', () => {
    const sm = new ConfigStateMachine({ maxKeys: 1, maxKeyBytes: 10, maxValueBytes: 10 });
    expect(apply(sm, 1, { op: 'put', key: 'a', value: '1' }).ok).toBe(true);
    expect(apply(sm, 2, { op: 'put', key: 'b', value: '1' })).toMatchObject({
      ok: false,
      error: 'too-many-keys',
    });
    expect(() =>
      encodeConfigCommand(
        { op: 'put', key: 'a', value: 'x'.repeat(11) },
        { maxKeys: 1, maxKeyBytes: 10, maxValueBytes: 10 },
      ),
    ).toThrow(RangeError);
  });

  it('snapshot and restore give an identical machine (property)', () => {
    const command = fc.oneof(
      fc.record({
        op: fc.constant('put' as const),
        key: fc.constantFrom('a', 'b', 'c'),
        value: fc.string(),
      }),
      fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({
        op: fc.constant('cas' as const),
        key: fc.constantFrom('a', 'b', 'c'),
        expectRevision: fc.nat(10),
        value: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: null }),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        const sm = new ConfigStateMachine();
        commands.forEach((c, i) => {
          try {
            apply(sm, i + 1, c);
          } catch {
            sm.skip(i + 1);
          }
        });
        const copy = new ConfigStateMachine();
        copy.restore(sm.snapshot());
        expect(copy.snapshot()).toEqual(sm.snapshot());
        expect(copy.appliedIndex).toBe(sm.appliedIndex);
        for (const key of sm.keys()) expect(copy.get(key)).toEqual(sm.get(key));
      }),
      { numRuns: 300 },
    );
  });
});
