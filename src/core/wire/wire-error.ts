/**
 * The one error type every wire decoder throws, with the reason it refused the input.
 *
 * @packageDocumentation
 */

/**
 * Every reason a frame, envelope or sealed message can be refused. Reasons never
 * change meaning once released; new reasons may be added.
 *
 * - `frame-too-large`: a length prefix announces more bytes than the frame limit.
 * - `truncated`: the bytes end before the structure they announce.
 * - `malformed`: the bytes are not a valid encoding (bad kind, bad UTF-8, trailing bytes, ...).
 * - `unsupported-version`: an envelope or frame header of a version this build does not speak.
 * - `limit-exceeded`: a field is longer than its configured bound.
 * - `unauthenticated`: the authentication tag does not verify (tampered, or sealed with another key).
 * - `unknown-key`: sealed with a key id that is not installed in the keyring.
 * - `replayed`: a sequence number already seen, too old for the window, or from a retired session.
 * - `plaintext-refused`: a plaintext frame received without the development flag that allows it.
 * - `misdirected`: an authenticated envelope addressed to another node.
 *
 * @since 2.0.0
 */
export const WIRE_REJECT_REASONS = Object.freeze([
  'frame-too-large',
  'truncated',
  'malformed',
  'unsupported-version',
  'limit-exceeded',
  'unauthenticated',
  'unknown-key',
  'replayed',
  'plaintext-refused',
  'misdirected',
] as const);

/**
 * A reason input was refused; see {@link WIRE_REJECT_REASONS}.
 *
 * @since 2.0.0
 */
export type WireRejectReason = (typeof WIRE_REJECT_REASONS)[number];

/**
 * Thrown by every wire decoder when it refuses its input. Callers branch on
 * {@link WireError.reason}, never on the message; a refused input never changes
 * the decoder's state except for its rejection counters.
 *
 * @since 2.0.0
 */
export class WireError extends Error {
  /** Why the input was refused. */
  readonly reason: WireRejectReason;

  /**
   * @param reason - Why the input was refused.
   * @param message - A human-readable explanation, safe to log (it never quotes secret material).
   * @param options - The underlying cause, if any.
   */
  constructor(reason: WireRejectReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireError';
    this.reason = reason;
  }
}

/**
 * A fresh counter per reject reason, all zero.
 *
 * @returns A mutable record with one zero counter for each of {@link WIRE_REJECT_REASONS}.
 * @since 2.0.0
 */
export function createRejectCounters(): Record<WireRejectReason, number> {
  const counters = {} as Record<WireRejectReason, number>;
  for (const reason of WIRE_REJECT_REASONS) counters[reason] = 0;
  return counters;
}
