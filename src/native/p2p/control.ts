/**
 * The payloads of the native network's own envelopes: `hello` (who a peer is,
 * where it listens, which peers it is connected to) and the control messages
 * carried in `ping` envelopes (goodbye, peer announcements, keepalive). Every decoder
 * validates everything and returns `undefined` for anything malformed, so the
 * caller counts one `protocol` rejection.
 *
 * @packageDocumentation
 */

/**
 * A peer as named in a `hello` or an announcement.
 *
 * @since 2.0.0
 */
export interface PeerAddressRecord {
  /** The peer's id. */
  readonly peerId: string;
  /** The host it listens on. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
}

/**
 * What a `hello` tells the other side.
 *
 * @since 2.0.0
 */
export interface HelloPayload {
  /** Where the sender listens (dial this to reach it). */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** Its advertised labels. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Peers it has an open, greeted connection to (discovery from hellos). */
  readonly peers: readonly PeerAddressRecord[];
}

/**
 * Why a peer closes a connection: `idle` (reconnect on demand) or `shutdown`
 * (the peer is leaving; report it lost at once).
 *
 * @since 2.0.0
 */
export type GoodbyeReason = 'idle' | 'shutdown';

/**
 * A peer closing a connection says why.
 *
 * @since 2.0.0
 */
export interface GoodbyeControl {
  /** The operation. */
  readonly op: 'goodbye';
  /** Why the connection closes. */
  readonly reason: GoodbyeReason;
}

/**
 * A peer names peers it is connected to (discovery).
 *
 * @since 2.0.0
 */
export interface AnnounceControl {
  /** The operation. */
  readonly op: 'announce';
  /** The peers. */
  readonly peers: readonly PeerAddressRecord[];
}

/**
 * A keepalive probe on a quiet connection (`reply: false`), or the answer to
 * one (`reply: true`). Two bytes on the wire, sealed and replay-checked like
 * every frame.
 *
 * @since 2.0.0
 */
export interface KeepaliveControl {
  /** The operation. */
  readonly op: 'keepalive';
  /** Whether this answers a probe. */
  readonly reply: boolean;
}

/**
 * A control message carried in a `ping` envelope.
 *
 * @since 2.0.0
 */
export type ControlMessage = GoodbyeControl | AnnounceControl | KeepaliveControl;

/**
 * Bounds of the control payloads.
 *
 * @since 2.0.0
 */
export const CONTROL_LIMITS = Object.freeze({
  /** The largest `hello` or announcement payload, in bytes. */
  maxPayloadBytes: 32 * 1024,
  /** Peers listed in one `hello` or announcement. */
  maxListedPeers: 64,
  /** Metadata entries. */
  maxMetadataEntries: 32,
  /** Characters of a host, metadata key or value. */
  maxStringChars: 256,
});

const OP_GOODBYE = 1;
const OP_ANNOUNCE = 2;
const OP_KEEPALIVE = 3;
const KEEPALIVE_PROBE = Object.freeze({ op: 'keepalive', reply: false } as const);
const KEEPALIVE_REPLY = Object.freeze({ op: 'keepalive', reply: true } as const);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= CONTROL_LIMITS.maxStringChars;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length > CONTROL_LIMITS.maxPayloadBytes) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

function parsePeers(value: unknown): PeerAddressRecord[] | undefined {
  if (!Array.isArray(value) || value.length > CONTROL_LIMITS.maxListedPeers) return undefined;
  const peers: PeerAddressRecord[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { peerId, host, port } = item as Record<string, unknown>;
    if (!isShortString(peerId) || peerId === '' || !isShortString(host) || !isPort(port)) {
      return undefined;
    }
    peers.push(Object.freeze({ peerId, host, port }));
  }
  return peers;
}

function parseMetadata(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > CONTROL_LIMITS.maxMetadataEntries) return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!isShortString(key) || !isShortString(item)) return undefined;
    metadata[key] = item;
  }
  return metadata;
}

/**
 * Encodes a `hello` payload.
 *
 * @param hello - What to tell the other side.
 * @returns The payload bytes.
 * @since 2.0.0
 */
export function encodeHello(hello: HelloPayload): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      host: hello.host,
      port: hello.port,
      metadata: hello.metadata,
      peers: hello.peers.slice(0, CONTROL_LIMITS.maxListedPeers),
    }),
  );
}

/**
 * Decodes and validates a `hello` payload.
 *
 * @param bytes - The payload.
 * @returns The hello, or `undefined` when malformed or out of bounds.
 * @since 2.0.0
 */
export function decodeHello(bytes: Uint8Array): HelloPayload | undefined {
  const value = parseJson(bytes);
  if (typeof value !== 'object' || value === null) return undefined;
  const { host, port, metadata, peers } = value as Record<string, unknown>;
  if (!isShortString(host) || host === '' || !isPort(port)) return undefined;
  const parsedMetadata = parseMetadata(metadata);
  const parsedPeers = parsePeers(peers);
  if (parsedMetadata === undefined || parsedPeers === undefined) return undefined;
  return Object.freeze({
    host,
    port,
    metadata: Object.freeze(parsedMetadata),
    peers: Object.freeze(parsedPeers),
  });
}

/**
 * Encodes a control message.
 *
 * @param message - The message.
 * @returns The `ping` payload bytes.
 * @since 2.0.0
 */
export function encodeControl(message: ControlMessage): Uint8Array {
  if (message.op === 'goodbye') {
    return new Uint8Array([OP_GOODBYE, message.reason === 'shutdown' ? 1 : 0]);
  }
  if (message.op === 'keepalive') return new Uint8Array([OP_KEEPALIVE, message.reply ? 1 : 0]);
  const body = encoder.encode(
    JSON.stringify(message.peers.slice(0, CONTROL_LIMITS.maxListedPeers)),
  );
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = OP_ANNOUNCE;
  bytes.set(body, 1);
  return bytes;
}

/**
 * Decodes and validates a control message.
 *
 * @param bytes - The `ping` payload.
 * @returns The message, or `undefined` when malformed or out of bounds.
 * @since 2.0.0
 */
export function decodeControl(bytes: Uint8Array): ControlMessage | undefined {
  if (bytes[0] === OP_GOODBYE && bytes.length === 2) {
    const code = bytes[1];
    if (code !== 0 && code !== 1) return undefined;
    return Object.freeze({ op: 'goodbye', reason: code === 1 ? 'shutdown' : 'idle' });
  }
  if (bytes[0] === OP_KEEPALIVE && bytes.length === 2) {
    const code = bytes[1];
    if (code !== 0 && code !== 1) return undefined;
    return code === 1 ? KEEPALIVE_REPLY : KEEPALIVE_PROBE;
  }
  if (bytes[0] === OP_ANNOUNCE) {
    const peers = parsePeers(parseJson(bytes.subarray(1)));
    return peers === undefined ? undefined : Object.freeze({ op: 'announce', peers });
  }
  return undefined;
}
