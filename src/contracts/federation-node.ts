/**
 * Node-level RPC to one member of the cluster: the primitive replication and the
 * object store build on.
 *
 * @packageDocumentation
 */

import type { CallOptions } from './common.js';
import type { VectorClock } from './vector-clock.js';

/**
 * What a node says about itself when another node first talks to it.
 *
 * @since 2.0.0
 */
export interface FederationHandshake {
  /** The answering node's id. */
  readonly nodeId: string;
  /** The contract version the node implements, for example `2.0.0`. */
  readonly protocolVersion: string;
  /** Named features the node supports, for example `range-read`. */
  readonly capabilities: readonly string[];
}

/**
 * The description of one stored object, without its bytes.
 *
 * @since 2.0.0
 */
export interface ObjectManifest {
  /** The object's id, unique in the cluster. */
  readonly objectId: string;
  /** The object's size in bytes. */
  readonly sizeBytes: number;
  /** The lowercase hex SHA-256 digest of the object's bytes. */
  readonly sha256: string;
  /** The MIME type the writer declared, if any. */
  readonly contentType?: string;
  /** The object's version: incremented by the writing node on every write. */
  readonly version: VectorClock;
  /** Free-form labels the writer attached. */
  readonly metadata: Readonly<Record<string, string>>;
  /** When the object was first written, in epoch milliseconds. */
  readonly createdAt: number;
  /** When the object was last written, in epoch milliseconds. */
  readonly modifiedAt: number;
}

/**
 * A request to write a whole object.
 *
 * @since 2.0.0
 */
export interface ObjectWriteRequest {
  /** The object's id. Writing an existing id replaces its bytes and advances its version. */
  readonly objectId: string;
  /** The object's bytes. */
  readonly data: Uint8Array;
  /** The MIME type to record, if known. */
  readonly contentType?: string;
  /** Free-form labels to record. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Node-level RPC to one node of the cluster. Reached through
 * {@link ClusterMembership.getFederationNode} for any member.
 *
 * @since 2.0.0
 */
export interface FederationNode {
  /** The id of the node this handle talks to. */
  readonly nodeId: string;
  /** The node's network address (host name or IP). */
  readonly address: string;
  /** The node's port. */
  readonly port: number;
  /** Whether the node is currently reachable and serving. */
  readonly isActive: boolean;

  /**
   * Exchanges identities and capabilities with the node.
   *
   * @param options - Cancellation.
   */
  handshake(options?: CallOptions): Promise<FederationHandshake>;

  /**
   * Looks up an object's manifest.
   *
   * @param objectId - The object to describe.
   * @param options - Cancellation.
   * @returns The manifest, or `undefined` when the node does not hold the object.
   */
  getManifest(objectId: string, options?: CallOptions): Promise<ObjectManifest | undefined>;

  /**
   * Reads part of an object's bytes.
   *
   * @param objectId - The object to read.
   * @param offset - The first byte to read, from zero.
   * @param length - How many bytes to read; fewer are returned at the end of the object.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `OBJECT_NOT_FOUND` when the node does not hold the object,
   *   `RANGE_NOT_SATISFIABLE` when `offset` is past the end, `INVALID_ARGUMENT` for negative
   *   or fractional numbers.
   */
  readRange(
    objectId: string,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array>;

  /**
   * Writes a whole object.
   *
   * @param request - The object's id, bytes and labels.
   * @param options - Cancellation.
   * @returns The manifest of the version written.
   */
  write(request: ObjectWriteRequest, options?: CallOptions): Promise<ObjectManifest>;
}
