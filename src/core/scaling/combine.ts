/**
 * How an auto-scaler turns the decisions of several scaling policies into one,
 * within the cluster's bounds.
 *
 * @packageDocumentation
 */

import type { ScalingAction, ScalingDecision } from '../../contracts/auto-scaler.js';

/**
 * The cluster's size and the bounds a combined decision must respect.
 *
 * @since 2.0.0
 */
export interface ScalingBounds {
  /** How many nodes the cluster has now; a non-negative integer. */
  readonly currentNodeCount: number;
  /** The fewest nodes allowed; a non-negative integer. */
  readonly minNodes: number;
  /** The most nodes allowed; an integer, at least `minNodes`. */
  readonly maxNodes: number;
}

/**
 * One policy's decision, with the name of the policy that made it.
 *
 * @since 2.0.0
 */
export interface PolicyVote {
  /** The policy's name. */
  readonly policyName: string;
  /** What the policy decided. */
  readonly decision: ScalingDecision;
}

/**
 * The reason of a combined decision when there is nothing to combine.
 *
 * @since 2.0.0
 */
export const NO_POLICIES_REASON = 'no scaling policies registered';

/**
 * The action that takes a cluster from `current` to `target` nodes.
 *
 * @param current - The nodes now.
 * @param target - The nodes wanted.
 * @returns `scale-out` when `target` is larger, `scale-in` when smaller, else `no-action`.
 * @since 2.0.0
 */
export function actionFor(current: number, target: number): ScalingAction {
  if (target > current) return 'scale-out';
  if (target < current) return 'scale-in';
  return 'no-action';
}

/**
 * Combines policy decisions into one. The rules, in order:
 *
 * 1. No votes: keep the current size, with reason {@link NO_POLICIES_REASON}.
 * 2. Any `scale-out` vote: scale out to the highest target asked for (the first
 *    such vote wins a tie). Growing is never blocked by another policy, because
 *    an overloaded cluster fails requests.
 * 3. Every vote is `scale-in`: scale in to the highest of their targets, the most
 *    conservative one, since removing too many nodes is the costlier mistake.
 * 4. Otherwise keep the current size.
 *
 * A vote's direction wins over a target that contradicts it: a `scale-out` vote
 * asks for at least one node more than now, a `scale-in` vote for at least one
 * fewer. The result's target is then clamped to `[minNodes, maxNodes]` (the
 * reason says so), and its action follows from comparing that target with the
 * current size, so `no-action` is returned exactly when the target equals it;
 * a cluster outside its bounds is brought back within them even when no policy
 * asks for it.
 *
 * @param votes - The policies' decisions, in registration order.
 * @param bounds - The cluster's size and bounds.
 * @returns The combined decision; `policyName` names the deciding policy, if one decided.
 * @since 2.0.0
 */
export function combineScalingDecisions(
  votes: readonly PolicyVote[],
  bounds: ScalingBounds,
): ScalingDecision {
  const { currentNodeCount: current, minNodes, maxNodes } = bounds;
  const wanted = chooseTarget(votes, current);
  const target = Math.min(maxNodes, Math.max(minNodes, wanted.target));
  let reason = wanted.reason;
  if (target !== wanted.target) {
    const bound = wanted.target > maxNodes ? 'maxNodes' : 'minNodes';
    reason += `; limited to ${bound} ${target}`;
  }
  const action = actionFor(current, target);
  if (action === 'no-action' && wanted.target !== current) {
    reason += `, which the cluster already has`;
  }
  return Object.freeze({
    action,
    reason,
    targetNodeCount: target,
    ...(wanted.policyName === undefined ? {} : { policyName: wanted.policyName }),
  });
}

interface Wanted {
  readonly target: number;
  readonly reason: string;
  readonly policyName?: string;
}

function chooseTarget(votes: readonly PolicyVote[], current: number): Wanted {
  if (votes.length === 0) return { target: current, reason: NO_POLICIES_REASON };

  const outs = votes.filter((vote) => vote.decision.action === 'scale-out');
  if (outs.length > 0) {
    const best = highest(outs, (vote) => Math.max(vote.decision.targetNodeCount, current + 1));
    return {
      target: best.target,
      policyName: best.vote.policyName,
      reason: `policy '${best.vote.policyName}' asks to scale out to ${best.target}: ${best.vote.decision.reason}`,
    };
  }

  const ins = votes.filter((vote) => vote.decision.action === 'scale-in');
  if (ins.length === votes.length) {
    const best = highest(ins, (vote) =>
      Math.max(0, Math.min(vote.decision.targetNodeCount, current - 1)),
    );
    return {
      target: best.target,
      policyName: best.vote.policyName,
      reason:
        `every policy asks to scale in; the most conservative, '${best.vote.policyName}', ` +
        `asks for ${best.target}: ${best.vote.decision.reason}`,
    };
  }

  const holdouts = votes
    .filter((vote) => vote.decision.action === 'no-action')
    .map((vote) => `'${vote.policyName}': ${vote.decision.reason}`);
  const prefix =
    ins.length > 0
      ? 'no policy asks to scale out and not every policy agrees to scale in'
      : 'no policy asks to scale';
  return { target: current, reason: `${prefix} (${holdouts.join('; ')})` };
}

function highest(
  votes: readonly PolicyVote[],
  targetOf: (vote: PolicyVote) => number,
): { vote: PolicyVote; target: number } {
  let best: { vote: PolicyVote; target: number } | undefined;
  for (const vote of votes) {
    const target = targetOf(vote);
    if (best === undefined || target > best.target) best = { vote, target };
  }
  if (best === undefined) throw new RangeError('no votes to choose from');
  return best;
}
