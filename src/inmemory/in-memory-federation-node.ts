/**
 * The embedded {@link FederationNode}: this node's own objects, held in memory.
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import type { CallOptions } from '../contracts/common.js';
import { CONTRACT_VERSION } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type {
  FederationHandshake,
  FederationNode,
  ObjectManifest,
  ObjectWriteRequest,
} from '../contracts/federation-node.js';
import { VectorClock } from '../contracts/vector-clock.js';
import { requireCount } from './validation.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryFederationNode}.
 *
 * @since 2.0.0
 */
export interface InMemoryFederationNodeOptions extends EmbeddedOptions {
  /** This node's id. */
  readonly nodeId: string;
  /** This node's address. Defaults to `127.0.0.1`. */
  readonly address?: string;
  /** This node's port. Defaults to `0` (no port: the node is not listening). */
  readonly port?: number;
  /** The most bytes all objects together may hold. Defaults to 256 MiB. */
  readonly capacityBytes?: number;
  /** The most objects the node may hold, whatever their size. Defaults to 100 000. */
  readonly maxObjects?: number;
}

/** The default of {@link InMemoryFederationNodeOptions.capacityBytes}: 256 MiB. */
const DEFAULT_CAPACITY_BYTES = 256 * 1024 * 1024;

/** The default of {@link InMemoryFederationNodeOptions.maxObjects}. */
const DEFAULT_MAX_OBJECTS = 100_000;

interface StoredObject {
  readonly manifest: ObjectManifest;
  readonly data: Uint8Array;
}

/**
 * Node-level RPC to this node itself, over objects kept in memory. Bytes are
 * copied on the way in and out, so callers can never change stored data.
 *
 * @since 2.0.0
 */
export class InMemoryFederationNode implements FederationNode {
  /** This node's id. */
  readonly nodeId: string;
  /** This node's address. */
  readonly address: string;
  /** This node's port. */
  readonly port: number;
  /** The most bytes all objects together may hold. */
  readonly capacityBytes: number;
  /** The most objects the node may hold. */
  readonly maxObjects: number;
  readonly #objects = new Map<string, StoredObject>();
  readonly #now: () => number;
  #usedBytes = 0;
  #active = true;

  /**
   * @param options - The node's identity and limits.
   */
  constructor(options: InMemoryFederationNodeOptions) {
    this.nodeId = options.nodeId;
    this.address = options.address ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.capacityBytes = options.capacityBytes ?? DEFAULT_CAPACITY_BYTES;
    this.maxObjects = options.maxObjects ?? DEFAULT_MAX_OBJECTS;
    this.#now = resolveEmbeddedOptions(options).now;
  }

  /** Whether the node serves requests; `false` after {@link InMemoryFederationNode.close}. */
  get isActive(): boolean {
    return this.#active;
  }

  /** The bytes all stored objects take together. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Describes this node.
   *
   * @param options - Cancellation.
   */
  handshake(options?: CallOptions): Promise<FederationHandshake> {
    return this.#run(options, () => ({
      nodeId: this.nodeId,
      protocolVersion: CONTRACT_VERSION,
      capabilities: ['manifest', 'range-read', 'write'],
    }));
  }

  /**
   * Looks up an object's manifest.
   *
   * @param objectId - The object to describe.
   * @param options - Cancellation.
   */
  getManifest(objectId: string, options?: CallOptions): Promise<ObjectManifest | undefined> {
    return this.#run(options, () => this.#objects.get(objectId)?.manifest);
  }

  /**
   * Reads part of an object.
   *
   * @param objectId - The object to read.
   * @param offset - The first byte, from zero.
   * @param length - How many bytes at most.
   * @param options - Cancellation.
   */
  readRange(
    objectId: string,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    return this.#run(options, () => {
      requireCount('offset', offset);
      requireCount('length', length);
      const stored = this.#objects.get(objectId);
      if (!stored) {
        throw new DistributedError('OBJECT_NOT_FOUND', `object '${objectId}' is not stored here`);
      }
      if (offset > stored.data.byteLength) {
        throw new DistributedError(
          'RANGE_NOT_SATISFIABLE',
          `offset ${offset} is past the end of object '${objectId}' (${stored.data.byteLength} bytes)`,
        );
      }
      return stored.data.slice(offset, offset + length);
    });
  }

  /**
   * Writes a whole object, advancing its version by one at this node.
   *
   * @param request - The object's id, bytes and labels.
   * @param options - Cancellation.
   */
  write(request: ObjectWriteRequest, options?: CallOptions): Promise<ObjectManifest> {
    return this.#run(options, () => {
      if (typeof request.objectId !== 'string' || request.objectId.length === 0) {
        throw new DistributedError('INVALID_ARGUMENT', 'objectId must be a non-empty string');
      }
      if (!(request.data instanceof Uint8Array)) {
        throw new DistributedError('INVALID_ARGUMENT', 'data must be a Uint8Array');
      }
      const previous = this.#objects.get(request.objectId);
      const usedAfter =
        this.#usedBytes - (previous?.data.byteLength ?? 0) + request.data.byteLength;
      if (usedAfter > this.capacityBytes) {
        throw new DistributedError(
          'CAPACITY_EXCEEDED',
          `writing ${request.data.byteLength} bytes would exceed this node's capacity of ${this.capacityBytes} bytes`,
        );
      }
      if (!previous && this.#objects.size >= this.maxObjects) {
        throw new DistributedError(
          'CAPACITY_EXCEEDED',
          `this node already holds its maximum of ${this.maxObjects} objects`,
        );
      }
      const now = this.#now();
      const data = request.data.slice();
      const manifest: ObjectManifest = Object.freeze({
        objectId: request.objectId,
        sizeBytes: data.byteLength,
        sha256: createHash('sha256').update(data).digest('hex'),
        ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
        version: (previous?.manifest.version ?? VectorClock.empty()).increment(this.nodeId),
        metadata: Object.freeze({ ...request.metadata }),
        createdAt: previous?.manifest.createdAt ?? now,
        modifiedAt: now,
      });
      this.#objects.set(request.objectId, { manifest, data });
      this.#usedBytes = usedAfter;
      return manifest;
    });
  }

  /** Stops serving: every later call rejects with `CLOSED`. Objects are kept. */
  close(): void {
    this.#active = false;
  }

  async #run<T>(options: CallOptions | undefined, work: () => T): Promise<T> {
    options?.signal?.throwIfAborted();
    if (!this.#active) {
      throw new DistributedError('CLOSED', `federation node '${this.nodeId}' is closed`);
    }
    return Promise.resolve(work());
  }
}
