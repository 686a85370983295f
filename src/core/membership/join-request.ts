/**
 * The checks every networked membership makes before joining: the request
 * is well formed and describes this node, and the membership can still join.
 *
 * @packageDocumentation
 */

import { CLUSTER_NODE_ROLES, type ClusterJoinRequest } from '../../contracts/cluster-membership.js';
import { DistributedError } from '../../contracts/errors.js';

/**
 * Where a membership is in its life: before `join`, during it, joined, or after `leave`.
 *
 * @since 2.0.0
 */
export type JoinPhase = 'idle' | 'joining' | 'joined' | 'left';

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', message);
}

/**
 * Checks every field of a join request (callers may be plain JavaScript or
 * decoded JSON) and that it describes this node.
 *
 * @param request - The request.
 * @param selfId - This node's configured id.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` naming the bad field.
 * @since 2.0.0
 */
export function checkJoinRequest(request: ClusterJoinRequest, selfId: string): void {
  if (typeof request !== 'object' || (request as unknown) === null) {
    throw invalid('a join request is required');
  }
  const fields: Partial<Record<keyof ClusterJoinRequest, unknown>> = { ...request };
  if (typeof fields.nodeId !== 'string' || fields.nodeId === '') {
    throw invalid('request.nodeId must be a non-empty string');
  }
  if (fields.nodeId !== selfId) {
    throw invalid(`request.nodeId '${fields.nodeId}' is not this node ('${selfId}')`);
  }
  if (typeof fields.address !== 'string' || fields.address === '') {
    throw invalid('request.address must be a non-empty string');
  }
  const port = fields.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalid('request.port must be an integer in 0–65535');
  }
  if (!CLUSTER_NODE_ROLES.some((role) => role === fields.requestedRole)) {
    throw invalid('request.requestedRole is not a known role');
  }
  const metadata = fields.metadata;
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Array.isArray(metadata) ||
    !Object.values(metadata).every((label) => typeof label === 'string')
  ) {
    throw invalid('request.metadata must map names to strings');
  }
}

/**
 * Refuses a join the membership's phase does not allow.
 *
 * @param phase - Where the membership is.
 * @param nodeId - This node, for the message.
 * @throws A {@link DistributedError}: `CLOSED` after a leave, `ALREADY_JOINED` while joining or joined.
 * @since 2.0.0
 */
export function checkJoinable(phase: JoinPhase, nodeId: string): void {
  if (phase === 'left') {
    throw new DistributedError('CLOSED', 'this membership has left; create a new one to rejoin');
  }
  if (phase !== 'idle') {
    throw new DistributedError('ALREADY_JOINED', `${nodeId} has already joined`);
  }
}
