/**
 * Checks and conversions of {@link NetworkAddress} for the Node runtime.
 *
 * @packageDocumentation
 */

import { isIPv4, isIPv6 } from 'node:net';
import { DistributedError } from '../../contracts/errors.js';
import type { NetworkAddress } from '../runtime.js';

/** The longest host name DNS allows. */
const MAX_HOST_LENGTH = 253;

/**
 * Checks an address given by a caller.
 *
 * @param address - The address to check.
 * @param what - What the address is for, in error messages.
 * @param allowAnyPort - Whether port `0` (any free port, when binding) is allowed.
 * @throws DistributedError `INVALID_ARGUMENT` when the host is empty or too
 *   long, or the port is not an integer in range.
 * @since 2.0.0
 */
export function checkAddress(address: NetworkAddress, what: string, allowAnyPort: boolean): void {
  const { host, port } = address;
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what}: host must be a non-empty string of at most ${MAX_HOST_LENGTH} characters`,
    );
  }
  const lowest = allowAnyPort ? 0 : 1;
  if (!Number.isInteger(port) || port < lowest || port > 65535) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what}: port must be an integer in [${lowest}, 65535], got ${String(port)}`,
    );
  }
}

/**
 * The IP family of a host: 6 for an IPv6 literal, 4 for an IPv4 literal,
 * `undefined` for a host name.
 *
 * @param host - A host name or IP literal.
 * @since 2.0.0
 */
export function ipFamily(host: string): 4 | 6 | undefined {
  if (isIPv6(host)) return 6;
  if (isIPv4(host)) return 4;
  return undefined;
}

/**
 * A frozen {@link NetworkAddress}.
 *
 * @param host - Host name or IP address.
 * @param port - Port number.
 * @since 2.0.0
 */
export function networkAddress(host: string, port: number): NetworkAddress {
  return Object.freeze({ host, port });
}
