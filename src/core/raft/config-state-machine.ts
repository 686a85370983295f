/**
 * The cluster configuration state machine replicated by Raft: keys to values
 * (strings or bytes), with put, delete and compare-and-set (by value or by the
 * key's revision), a snapshot encoding, and a validating command codec.
 *
 * A key's revision is the log index of the entry that last wrote it (as
 * etcd's `mod_revision`), so revisions are unique and increase across the
 * cluster's history.
 *
 * @packageDocumentation
 */

import { WireError } from '../wire/wire-error.js';
import { ByteReader, ByteWriter } from './byte-codec.js';

/**
 * A configuration value.
 *
 * @since 2.0.0
 */
export type ConfigValue = string | Uint8Array;

/**
 * Sets a key.
 *
 * @since 2.0.0
 */
export interface ConfigPut {
  /** The operation. */
  readonly op: 'put';
  /** The key. */
  readonly key: string;
  /** The value. */
  readonly value: ConfigValue;
}

/**
 * Removes a key (a no-op when absent, still `ok`).
 *
 * @since 2.0.0
 */
export interface ConfigDelete {
  /** The operation. */
  readonly op: 'delete';
  /** The key. */
  readonly key: string;
}

/**
 * Compare-and-set: when the current state matches — `expectRevision` (`0` =
 * absent), or `expectValue` (`null` = absent) — sets `value` (`null`
 * deletes); otherwise changes nothing and the result is not `ok`. Exactly
 * one of the two expectations is given.
 *
 * @since 2.0.0
 */
export interface ConfigCas {
  /** The operation. */
  readonly op: 'cas';
  /** The key. */
  readonly key: string;
  /** The value the key must hold; `null`: it must be absent. */
  readonly expectValue?: ConfigValue | null;
  /** The revision the key must have; `0`: it must be absent. */
  readonly expectRevision?: number;
  /** The new value; `null` deletes the key. */
  readonly value: ConfigValue | null;
}

/**
 * A command on the configuration.
 *
 * @since 2.0.0
 */
export type ConfigCommand = ConfigPut | ConfigDelete | ConfigCas;

/**
 * One key's state (the contract's `ConfigEntry`, with bytes allowed as values).
 *
 * @since 2.0.0
 */
export interface ConfigRecord {
  /** The key. */
  readonly key: string;
  /** The value (bytes are a copy). */
  readonly value: ConfigValue;
  /** The log index of the write that set it. */
  readonly revision: number;
}

/**
 * The outcome of applying a command.
 *
 * @since 2.0.0
 */
export interface ConfigResult {
  /** The command took effect (false: a compare-and-set mismatch, or an error). */
  readonly ok: boolean;
  /** The log index the command was applied at. */
  readonly revision: number;
  /** The key's state before. */
  readonly previous?: ConfigRecord;
  /** The key's state after. */
  readonly current?: ConfigRecord;
  /** Why it failed, when it did for another reason than a mismatch. */
  readonly error?: 'malformed' | 'too-many-keys';
}

/**
 * Bounds of the configuration.
 *
 * @since 2.0.0
 */
export interface ConfigLimits {
  /** Keys held. Default 100 000. */
  readonly maxKeys: number;
  /** The longest key, in UTF-8 bytes. Default 1 024. */
  readonly maxKeyBytes: number;
  /** The largest value, in bytes. Default 48 KiB (a command must fit one Raft message). */
  readonly maxValueBytes: number;
}

/**
 * The default {@link ConfigLimits}.
 *
 * @since 2.0.0
 */
export const DEFAULT_CONFIG_LIMITS: ConfigLimits = Object.freeze({
  maxKeys: 100_000,
  maxKeyBytes: 1_024,
  maxValueBytes: 48 * 1024,
});

const VERSION = 1;
const OPS = ['put', 'delete', 'cas'] as const;
const utf8 = new TextEncoder();

function writeValue(w: ByteWriter, value: ConfigValue | null | undefined): void {
  if (value === undefined) w.u8(0);
  else if (value === null) w.u8(1);
  else if (typeof value === 'string') w.u8(2).bytes(utf8.encode(value));
  else w.u8(3).bytes(value);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readValue(
  r: ByteReader,
  limits: ConfigLimits,
  field: string,
): ConfigValue | null | undefined {
  const tag = r.u8(`the tag of ${field}`);
  switch (tag) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2: {
      const raw = r.bytes(limits.maxValueBytes, field);
      try {
        return utf8Decoder.decode(raw);
      } catch (cause) {
        throw new WireError('malformed', `${field} is not valid UTF-8`, { cause });
      }
    }
    case 3:
      return r.bytes(limits.maxValueBytes, field);
    default:
      throw new WireError('malformed', `unknown tag ${tag} of ${field}`);
  }
}

function checkKey(key: unknown, limits: ConfigLimits): string {
  if (typeof key !== 'string' || key === '') throw new RangeError('key must be a non-empty string');
  if (utf8.encode(key).length > limits.maxKeyBytes) {
    throw new RangeError(`key longer than ${limits.maxKeyBytes} UTF-8 bytes`);
  }
  return key;
}

function checkValue(value: unknown, limits: ConfigLimits, nullable: boolean): void {
  if (value === null && nullable) return;
  const size =
    typeof value === 'string'
      ? utf8.encode(value).length
      : value instanceof Uint8Array
        ? value.length
        : -1;
  if (size < 0) throw new RangeError('value must be a string or a Uint8Array');
  if (size > limits.maxValueBytes) throw new RangeError(`value over ${limits.maxValueBytes} bytes`);
}

/**
 * Encodes a command after checking it.
 *
 * @param command - The command.
 * @param limits - Bounds; default {@link DEFAULT_CONFIG_LIMITS}.
 * @returns Its bytes (the data of a Raft entry).
 * @throws RangeError for an invalid command.
 * @since 2.0.0
 */
export function encodeConfigCommand(
  command: ConfigCommand,
  limits: ConfigLimits = DEFAULT_CONFIG_LIMITS,
): Uint8Array {
  const key = checkKey(command.key, limits);
  const w = new ByteWriter(64).u8(VERSION).u8(OPS.indexOf(command.op)).text(key);
  switch (command.op) {
    case 'put':
      checkValue(command.value, limits, false);
      writeValue(w, command.value);
      break;
    case 'delete':
      break;
    case 'cas': {
      const byRevision = command.expectRevision !== undefined;
      if (byRevision === (command.expectValue !== undefined)) {
        throw new RangeError('cas takes exactly one of expectValue and expectRevision');
      }
      if (byRevision) {
        const revision = command.expectRevision;
        if (!Number.isSafeInteger(revision) || revision < 0) {
          throw new RangeError('expectRevision must be a non-negative integer');
        }
        w.u8(1).u53(revision);
      } else {
        checkValue(command.expectValue, limits, true);
        w.u8(0);
        writeValue(w, command.expectValue);
      }
      checkValue(command.value, limits, true);
      writeValue(w, command.value);
      break;
    }
    default:
      throw new RangeError('unknown op');
  }
  return w.finish();
}

/**
 * Decodes and validates a command.
 *
 * @param bytes - Untrusted bytes.
 * @param limits - Bounds; default {@link DEFAULT_CONFIG_LIMITS}.
 * @returns The command.
 * @throws WireError for anything that is not a valid command within the bounds.
 * @since 2.0.0
 */
export function decodeConfigCommand(
  bytes: Uint8Array,
  limits: ConfigLimits = DEFAULT_CONFIG_LIMITS,
): ConfigCommand {
  const r = new ByteReader(bytes, 'config command');
  const version = r.u8('the version');
  if (version !== VERSION) throw new WireError('unsupported-version', `version ${version}`);
  const op = OPS[r.u8('the op')];
  if (op === undefined) throw new WireError('malformed', 'unknown op');
  const key = r.text(limits.maxKeyBytes, 'the key');
  if (key === '') throw new WireError('malformed', 'empty key');
  let command: ConfigCommand;
  switch (op) {
    case 'put': {
      const value = readValue(r, limits, 'the value');
      if (value === undefined || value === null)
        throw new WireError('malformed', 'put needs a value');
      command = { op, key, value };
      break;
    }
    case 'delete':
      command = { op, key };
      break;
    case 'cas': {
      const kind = r.u8('the expectation kind');
      let expect: { expectRevision: number } | { expectValue: ConfigValue | null };
      if (kind === 1) expect = { expectRevision: r.u53('the expected revision') };
      else if (kind === 0) {
        const expectValue = readValue(r, limits, 'the expected value');
        if (expectValue === undefined) throw new WireError('malformed', 'missing expected value');
        expect = { expectValue };
      } else throw new WireError('malformed', 'unknown expectation kind');
      const value = readValue(r, limits, 'the value');
      if (value === undefined) throw new WireError('malformed', 'cas needs a value or null');
      command = { op, key, ...expect, value };
      break;
    }
  }
  r.end();
  return Object.freeze(command);
}

function sameValue(a: ConfigValue, b: ConfigValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function copyEntry(entry: ConfigRecord): ConfigRecord {
  return Object.freeze({
    key: entry.key,
    value: typeof entry.value === 'string' ? entry.value : entry.value.slice(),
    revision: entry.revision,
  });
}

/**
 * The configuration: apply committed commands in log order, read, snapshot
 * and restore. Deterministic: every member that applies the same entries
 * holds the same state and returns the same results.
 *
 * @since 2.0.0
 */
export class ConfigStateMachine {
  readonly #limits: ConfigLimits;
  #entries = new Map<string, ConfigRecord>();
  #applied = 0;

  /** @param limits - Bounds; default {@link DEFAULT_CONFIG_LIMITS}. */
  constructor(limits: ConfigLimits = DEFAULT_CONFIG_LIMITS) {
    this.#limits = limits;
  }

  /** The last log index applied. */
  get appliedIndex(): number {
    return this.#applied;
  }

  /** Keys held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Reads one key.
   *
   * @param key - The key.
   * @returns A copy of its state, or `undefined`.
   */
  get(key: string): ConfigRecord | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined ? undefined : copyEntry(entry);
  }

  /**
   * The keys starting with `prefix`, sorted.
   *
   * @param prefix - The prefix; default every key.
   * @returns The keys.
   */
  keys(prefix = ''): string[] {
    return [...this.#entries.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  /**
   * Records that a non-command entry (no-op, membership change) was applied.
   *
   * @param index - Its index.
   */
  skip(index: number): void {
    if (index > this.#applied) this.#applied = index;
  }

  /**
   * Applies one committed command.
   *
   * @param index - The entry's index (becomes the revision of what it writes).
   * @param data - The entry's data.
   * @returns The result, the same on every member.
   */
  apply(index: number, data: Uint8Array): ConfigResult {
    this.#applied = Math.max(this.#applied, index);
    let command: ConfigCommand;
    try {
      command = decodeConfigCommand(data, this.#limits);
    } catch {
      return Object.freeze({ ok: false, revision: index, error: 'malformed' as const });
    }
    const previous = this.#entries.get(command.key);
    const base = {
      revision: index,
      ...(previous === undefined ? {} : { previous: copyEntry(previous) }),
    };
    let next: ConfigValue | null;
    switch (command.op) {
      case 'put':
        next = command.value;
        break;
      case 'delete':
        next = null;
        break;
      case 'cas': {
        const matches =
          command.expectRevision !== undefined
            ? (previous?.revision ?? 0) === command.expectRevision
            : command.expectValue === null || command.expectValue === undefined
              ? previous === undefined
              : previous !== undefined && sameValue(previous.value, command.expectValue);
        if (!matches) {
          return Object.freeze({
            ok: false,
            ...base,
            ...(previous === undefined ? {} : { current: copyEntry(previous) }),
          });
        }
        next = command.value;
        break;
      }
    }
    if (next === null) {
      this.#entries.delete(command.key);
      return Object.freeze({ ok: true, ...base });
    }
    if (previous === undefined && this.#entries.size >= this.#limits.maxKeys) {
      return Object.freeze({ ok: false, ...base, error: 'too-many-keys' as const });
    }
    const entry: ConfigRecord = Object.freeze({
      key: command.key,
      value: typeof next === 'string' ? next : next.slice(),
      revision: index,
    });
    this.#entries.set(command.key, entry);
    return Object.freeze({ ok: true, ...base, current: copyEntry(entry) });
  }

  /**
   * Encodes the whole state (keys sorted, so equal states encode equally).
   *
   * @returns The snapshot bytes.
   */
  snapshot(): Uint8Array {
    const w = new ByteWriter(1024).u8(VERSION).u53(this.#applied).u32(this.#entries.size);
    for (const key of [...this.#entries.keys()].sort()) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      w.text(entry.key);
      writeValue(w, entry.value);
      w.u53(entry.revision);
    }
    return w.finish();
  }

  /**
   * Replaces the state by a snapshot's.
   *
   * @param bytes - From {@link ConfigStateMachine.snapshot} (possibly of another member).
   * @throws WireError when the bytes are not a valid snapshot within the bounds.
   */
  restore(bytes: Uint8Array): void {
    const r = new ByteReader(bytes, 'config snapshot');
    if (r.u8('the version') !== VERSION) {
      throw new WireError('unsupported-version', 'config snapshot version');
    }
    const applied = r.u53('the applied index');
    const count = r.u32('the key count');
    if (count > this.#limits.maxKeys) {
      throw new WireError('limit-exceeded', `${count} keys > ${this.#limits.maxKeys}`);
    }
    const entries = new Map<string, ConfigRecord>();
    for (let i = 0; i < count; i++) {
      const key = r.text(this.#limits.maxKeyBytes, 'a key');
      const value = readValue(r, this.#limits, 'a value');
      if (value === undefined || value === null) throw new WireError('malformed', 'missing value');
      const revision = r.u53('a revision');
      entries.set(key, Object.freeze({ key, value, revision }));
    }
    r.end();
    this.#entries = entries;
    this.#applied = applied;
  }
}
