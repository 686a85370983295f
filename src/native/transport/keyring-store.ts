/**
 * A live keyring and the file that keeps it: every change is written to the
 * file first and applied to the live keyring only once the write succeeded, so
 * memory and disk never disagree and a restart keeps every change that was
 * acknowledged.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { writeKeyringFile } from './keyring-file.js';
import { Keyring, type KeyDetails } from './keyring.js';

/**
 * The default most changes waiting for their turn at once (see
 * {@link KeyringStoreOptions.maxPendingChanges}).
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_PENDING_KEYRING_CHANGES = 16;

/**
 * Options of a {@link KeyringStore}.
 *
 * @since 2.0.0
 */
export interface KeyringStoreOptions {
  /** The clock for installation times, in epoch milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
  /**
   * How many changes may wait for the one in progress (each waits for the file
   * write before it); more are refused with `CAPACITY_EXCEEDED`. Defaults to
   * {@link DEFAULT_MAX_PENDING_KEYRING_CHANGES}.
   */
  readonly maxPendingChanges?: number;
  /** Writes the keyring to `path`; defaults to {@link writeKeyringFile}. Tests inject failures here. */
  readonly write?: (path: string, keyring: Keyring) => Promise<void>;
}

/**
 * A change could not be written to the keyring file, so it was not applied.
 *
 * @since 2.0.0
 */
export class KeyringPersistError extends Error {
  /** Whether the file is known to still hold the keyring as it was before the change. */
  readonly fileRestored: boolean;

  /**
   * @param message - What failed.
   * @param fileRestored - Whether the file is known to hold the previous keyring.
   * @param cause - The file system's error.
   */
  constructor(message: string, fileRestored: boolean, cause: unknown) {
    super(message, { cause });
    this.name = 'KeyringPersistError';
    this.fileRestored = fileRestored;
  }
}

/**
 * The outcome of {@link KeyringStore.install}.
 *
 * @since 2.0.0
 */
export interface KeyInstallResult {
  /** `false` when the same key was already installed under this id (nothing changed). */
  readonly installed: boolean;
  /** The key as the keyring now describes it. */
  readonly key: KeyDetails;
}

/**
 * The outcome of {@link KeyringStore.use}.
 *
 * @since 2.0.0
 */
export interface KeyUseResult {
  /** The primary before the change. */
  readonly previousPrimaryKeyId: string;
  /** The primary now. */
  readonly primaryKeyId: string;
}

/**
 * Changes a live {@link Keyring} (the one the node's codec seals and opens
 * with, so a change takes effect on the next frame) and keeps its file in step.
 *
 * Changes run one at a time. Each is first tried on a copy of the keyring, so
 * bad input is refused before anything is written; then the copy is written to
 * the file (atomically and durably, see {@link writeKeyringFile}); only then is
 * the same change applied to the live keyring. When the write fails the live
 * keyring is untouched, the file is rewritten with it (in case the failure came
 * after the rename), and the change rejects with {@link KeyringPersistError}.
 *
 * @since 2.0.0
 */
export class KeyringStore {
  /** The live keyring. Change it only through this store, or the file falls behind. */
  readonly keyring: Keyring;
  /** The keyring file's path. */
  readonly path: string;
  readonly #now: () => number;
  readonly #write: (path: string, keyring: Keyring) => Promise<void>;
  readonly #maxPending: number;
  #pending = 0;
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * @param keyring - The live keyring, as read from `path`.
   * @param path - Its file.
   * @param options - Clock, bound and writer.
   * @throws DistributedError `INVALID_ARGUMENT` when `maxPendingChanges` is not a positive integer.
   */
  constructor(keyring: Keyring, path: string, options?: KeyringStoreOptions) {
    const maxPending = options?.maxPendingChanges ?? DEFAULT_MAX_PENDING_KEYRING_CHANGES;
    if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxPendingChanges must be a positive integer, got ${String(maxPending)}`,
      );
    }
    this.keyring = keyring;
    this.path = path;
    this.#now = options?.now ?? Date.now;
    this.#write = options?.write ?? writeKeyringFile;
    this.#maxPending = maxPending;
  }

  /**
   * Describes the installed keys (never their material).
   *
   * @returns Frozen descriptions, in installation order.
   */
  list(): KeyDetails[] {
    return this.keyring.details();
  }

  /**
   * Installs a key on the live keyring and in the file. Installing the same key
   * under the same id again changes nothing and succeeds.
   *
   * @param keyId - The key's id.
   * @param key - The 32-byte key (copied).
   * @param options - `signal`: abandon before the change starts.
   * @returns Whether the key was new, and its description.
   * @throws KeyringError for bad input (nothing changed), KeyringPersistError when the file
   *   could not be written (nothing changed), DistributedError `CAPACITY_EXCEEDED` when too
   *   many changes wait.
   */
  async install(
    keyId: string,
    key: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<KeyInstallResult> {
    options?.signal?.throwIfAborted();
    const copy = new Uint8Array(key);
    return this.#change(options?.signal, () => {
      const installedAt = this.#now();
      const candidate = this.#copy();
      if (!candidate.install(keyId, copy, installedAt)) {
        return { candidate: undefined, apply: () => this.#describe(keyId, false) };
      }
      return {
        candidate,
        apply: () => {
          this.keyring.install(keyId, copy, installedAt);
          return this.#describe(keyId, true);
        },
      };
    });
  }

  /**
   * Makes an installed key the primary, on the live keyring and in the file.
   *
   * @param keyId - The id of an installed key.
   * @param options - `signal`: abandon before the change starts.
   * @returns The primary before and after.
   * @throws KeyringError `unknown-key` (nothing changed), KeyringPersistError when the file
   *   could not be written (nothing changed), DistributedError `CAPACITY_EXCEEDED`.
   */
  async use(keyId: string, options?: { readonly signal?: AbortSignal }): Promise<KeyUseResult> {
    options?.signal?.throwIfAborted();
    return this.#change(options?.signal, () => {
      const previousPrimaryKeyId = this.keyring.primaryKeyId;
      const candidate = this.#copy();
      candidate.use(keyId);
      const result = Object.freeze({ previousPrimaryKeyId, primaryKeyId: keyId });
      if (previousPrimaryKeyId === keyId) return { candidate: undefined, apply: () => result };
      return {
        candidate,
        apply: () => {
          this.keyring.use(keyId);
          return result;
        },
      };
    });
  }

  /**
   * Removes a key that is not the primary, from the live keyring and the file:
   * frames sealed with it are refused from then on.
   *
   * @param keyId - The id of an installed key other than the primary.
   * @param options - `signal`: abandon before the change starts.
   * @throws KeyringError `unknown-key` or `key-is-primary` (nothing changed),
   *   KeyringPersistError when the file could not be written (nothing changed),
   *   DistributedError `CAPACITY_EXCEEDED`.
   */
  async remove(keyId: string, options?: { readonly signal?: AbortSignal }): Promise<void> {
    options?.signal?.throwIfAborted();
    await this.#change(options?.signal, () => {
      const candidate = this.#copy();
      candidate.remove(keyId);
      return { candidate, apply: () => this.keyring.remove(keyId) };
    });
  }

  #copy(): Keyring {
    return new Keyring(this.keyring.exportKeys(), this.keyring.primaryKeyId, {
      maxKeys: this.keyring.maxKeys,
      now: this.#now,
    });
  }

  #describe(keyId: string, installed: boolean): KeyInstallResult {
    const key = this.keyring.details().find((details) => details.keyId === keyId);
    if (key === undefined) throw new Error('keyring store invariant: the key is installed');
    return Object.freeze({ installed, key });
  }

  /**
   * Runs changes one at a time. `plan` runs when the change's turn comes: it
   * throws for bad input, or returns the keyring to write (none: nothing to
   * change) and how to apply the change to the live keyring afterwards.
   */
  async #change<T>(
    signal: AbortSignal | undefined,
    plan: () => { candidate: Keyring | undefined; apply: () => T },
  ): Promise<T> {
    if (this.#pending >= this.#maxPending) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#pending} keyring changes are already waiting; try again`,
      );
    }
    this.#pending += 1;
    const run = async (): Promise<T> => {
      try {
        signal?.throwIfAborted();
        const { candidate, apply } = plan();
        if (candidate !== undefined) await this.#persist(candidate);
        return apply();
      } finally {
        this.#pending -= 1;
      }
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #persist(candidate: Keyring): Promise<void> {
    try {
      await this.#write(this.path, candidate);
    } catch (error) {
      let fileRestored = false;
      try {
        // The write may have failed after its rename (syncing the directory): put the old keyring back.
        await this.#write(this.path, this.keyring);
        fileRestored = true;
      } catch {
        // The first error is the one reported; fileRestored says the file may be out of step.
      }
      const detail = error instanceof Error ? error.message : String(error);
      throw new KeyringPersistError(
        `could not write the keyring file ${this.path}: ${detail}; the change was not applied${
          fileRestored ? '' : ' (and the file could not be rewritten: check it before restarting)'
        }`,
        fileRestored,
        error,
      );
    }
  }
}
