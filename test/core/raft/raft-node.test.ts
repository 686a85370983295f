import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../../src/core/raft/raft-node.js';
import { RaftHarness, bytes } from './harness.js';

const ids = ['n1', 'n2', 'n3'];

describe('RaftNode election', () => {
  it('a single voter elects itself and commits once its own log is durable', () => {
    const h = new RaftHarness(['n1']);
    h.tick(25);
    const n1 = h.node('n1');
    expect(n1.role).toBe('leader');
    const result = n1.propose(bytes('x'));
    expect(result.ok).toBe(true);
    // Before advance() reports the entry durable, it does not count towards a commit.
    expect(n1.hasReady()).toBe(true);
    const ready = n1.ready();
    expect(ready.entries.map((e) => e.index)).toEqual([2]);
    expect(n1.commitIndex).toBe(1);
    n1.advance();
    expect(n1.commitIndex).toBe(2);
  });

  it('elects one leader that replicates and commits on every member', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    expect(h.leaders().map((n) => n.id)).toEqual(['n1']);
    expect(h.node('n2').leaderId).toBe('n1');
    expect(h.node('n1').propose(bytes('a')).ok).toBe(true);
    h.process();
    h.tick(1);
    for (const id of ids) expect(h.commands(id)).toEqual(['a']);
    expect(h.node('n2').propose(bytes('b'))).toMatchObject({
      ok: false,
      reason: 'not-leader',
      leaderId: 'n1',
    });
  });

  it('a vote is cast once per term, and survives a restart from its hard state', () => {
    const h = new RaftHarness(ids);
    const n3 = h.node('n3');
    n3.step({ type: 'vote', from: 'n1', to: 'n3', term: 5, lastIndex: 0, lastTerm: 0 });
    const ready = n3.ready();
    expect(ready.hardState).toEqual({ term: 5, vote: 'n1', commit: 0 });
    expect(ready.messages).toEqual([
      expect.objectContaining({ type: 'vote-response', to: 'n1', reject: false }),
    ]);
    n3.advance();
    const restarted = new RaftNode({
      id: 'n3',
      random: { int: () => 0 },
      ...(ready.hardState === undefined ? {} : { hardState: ready.hardState }),
      membership: { voters: ids, observers: [] },
    });
    restarted.step({ type: 'vote', from: 'n2', to: 'n3', term: 5, lastIndex: 9, lastTerm: 4 });
    expect(restarted.ready().messages).toEqual([
      expect.objectContaining({ type: 'vote-response', to: 'n2', reject: true }),
    ]);
  });

  it('pre-vote: an isolated member never raises its term, and cannot depose the leader on return', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    const term = h.node('n1').term;
    h.isolate('n3');
    h.tick(100);
    expect(h.node('n3').term).toBe(term);
    expect(h.node('n3').stats.preVotes).toBeGreaterThan(0);
    expect(h.node('n3').stats.elections).toBe(0);
    h.heal();
    h.tick(30);
    expect(h.node('n1').role).toBe('leader');
    expect(h.node('n1').term).toBe(term);
  });

  it('without pre-vote the same isolated member would disrupt the term (the guard is real)', () => {
    const h = new RaftHarness(ids, { preVote: false, checkQuorum: false });
    h.elect('n1');
    const term = h.node('n1').term;
    h.isolate('n3');
    h.tick(100);
    expect(h.node('n3').term).toBeGreaterThan(term);
  });

  it('check-quorum: a leader cut off from its quorum steps down and forgets itself', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.isolate('n1');
    // Peers heard from before the cut count for the first round; the second finds no quorum.
    h.tick(21, ['n1']);
    expect(h.node('n1').role).toBe('follower');
    expect(h.node('n1').leaderId).toBe('');
    expect(h.node('n1').stats.quorumLost).toBe(1);
  });

  it('the pre-vote + check-quorum trap: followers that still remember a dead leader elect a new one', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.tick(1);
    h.isolate('n1');
    // n2 times out first and asks for pre-votes; n3 still heard the leader recently and ignores it.
    h.tick(4, ['n3']);
    h.tick(20, ['n2']);
    expect(h.node('n2').role).toBe('pre-candidate');
    expect(h.node('n2').leaderId).toBe('');
    // Then n3 times out: n2 (a pre-candidate that forgot the leader) grants its pre-vote.
    h.tick(40, ['n2', 'n3']);
    const leaders = h.leaders().filter((n) => n.id !== 'n1');
    expect(leaders).toHaveLength(1);
  });

  it('a member at a higher term makes a stale leader step down', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    const n1 = h.node('n1');
    n1.step({ type: 'heartbeat-response', from: 'n2', to: 'n1', term: n1.term + 3, seq: 0 });
    expect(n1.role).toBe('follower');
    expect(n1.term).toBe(4);
  });
});

describe('RaftNode replication', () => {
  it('conflicting uncommitted entries are replaced by the new leader’s, with the term hint', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.isolate('n1');
    for (let i = 0; i < 20; i++) h.node('n1').propose(bytes(`lost${i}`));
    h.process();
    h.tick(40, ['n2', 'n3']);
    const leader = h.leaders().find((n) => n.id !== 'n1');
    if (leader === undefined) throw new Error('no new leader');
    for (let i = 0; i < 5; i++) leader.propose(bytes(`kept${i}`));
    h.process();
    h.heal();
    h.tick(3);
    expect(h.node('n1').role).toBe('follower');
    const kept = ['kept0', 'kept1', 'kept2', 'kept3', 'kept4'];
    for (const id of ids) expect(h.commands(id)).toEqual(kept);
    // The hint skips the whole conflicting term at once: few rejections, not one per entry.
    const rejections = h.sent.filter(
      (m) => m.type === 'append-response' && m.reject && m.from === 'n1',
    );
    expect(rejections.length).toBeLessThanOrEqual(2);
  });

  it('a follower behind the compaction point gets a snapshot, in chunks, and resends survive loss', () => {
    const h = new RaftHarness(ids, { maxMessageBytes: 16 });
    h.elect('n1');
    h.isolate('n3');
    for (let i = 0; i < 10; i++) h.node('n1').propose(bytes(`c${i}`));
    h.process();
    h.tick(1);
    const data = bytes('x'.repeat(100));
    const snap = h.node('n1').compact(data);
    expect(snap?.meta.index).toBe(h.node('n1').appliedIndex);
    h.heal();
    let dropped = 0;
    let seen = 0;
    h.filter = (m) => {
      if (m.type !== 'snapshot' || m.offset !== 32 || seen++ > 0) return false;
      dropped++;
      return true;
    };
    h.tick(15);
    const n3 = h.node('n3');
    const installed = h.readies.get('n3')?.find((r) => r.snapshot !== undefined)?.snapshot;
    expect(installed?.data).toEqual(data);
    expect(installed?.meta.membership.voters).toEqual(ids);
    expect(dropped).toBe(1);
    expect(seen).toBeGreaterThan(1); // the lost chunk was sent again
    expect(n3.commitIndex).toBe(h.node('n1').commitIndex);
    expect(n3.stats.snapshotsInstalled).toBe(1);
    h.node('n1').propose(bytes('after'));
    h.process();
    h.tick(1);
    expect(h.commands('n3')).toEqual(['after']);
  });
});

describe('RaftNode membership', () => {
  it('an observer replicates but never votes; it can be promoted; changes go one at a time', () => {
    const h = new RaftHarness(['n1', 'n2', 'n3', 'n4'], { observers: ['n4'] });
    h.elect('n1');
    expect(h.node('n4').role).toBe('observer');
    h.node('n1').propose(bytes('x'));
    h.process();
    h.tick(1);
    expect(h.commands('n4')).toEqual(['x']);
    // An observer never campaigns.
    h.tick(50, ['n4']);
    expect(h.node('n4').stats.preVotes).toBe(0);
    const n1 = h.node('n1');
    expect(n1.proposeConfigChange({ type: 'add-voter', nodeId: 'n4' }).ok).toBe(true);
    expect(n1.proposeConfigChange({ type: 'remove', nodeId: 'n3' })).toMatchObject({
      ok: false,
      reason: 'change-in-progress',
    });
    h.process();
    h.tick(1);
    expect(n1.membership.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(h.node('n4').membership.voters).toContain('n4');
    expect(h.node('n4').role).toBe('follower');
    expect(n1.proposeConfigChange({ type: 'remove', nodeId: 'n3' }).ok).toBe(true);
    h.process();
    h.tick(1);
    expect(n1.membership.voters).toEqual(['n1', 'n2', 'n4']);
  });

  it('a leader that removes itself steps down and the rest elect a leader', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.tick(1);
    expect(h.node('n1').proposeConfigChange({ type: 'remove', nodeId: 'n1' }).ok).toBe(true);
    h.process();
    h.tick(1);
    expect(h.node('n1').role).toBe('follower');
    h.tick(40, ['n2', 'n3']);
    expect(h.leaders().map((n) => n.id)).toHaveLength(1);
    expect(h.leaders()[0]?.membership.voters).toEqual(['n2', 'n3']);
  });

  it('refuses meaningless changes', () => {
    const h = new RaftHarness(['n1']);
    h.elect('n1');
    h.tick(1);
    const n1 = h.node('n1');
    expect(n1.proposeConfigChange({ type: 'remove', nodeId: 'n1' })).toMatchObject({
      reason: 'invalid',
    });
    expect(n1.proposeConfigChange({ type: 'add-voter', nodeId: 'n1' })).toMatchObject({
      reason: 'invalid',
    });
    expect(n1.proposeConfigChange({ type: 'remove', nodeId: 'zz' })).toMatchObject({
      reason: 'invalid',
    });
  });
});

describe('RaftNode read-index', () => {
  it('the leader answers after a quorum confirms its leadership; a follower forwards', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.tick(1);
    h.node('n1').propose(bytes('a'));
    h.process();
    expect(h.node('n1').readIndex(7)).toBe(true);
    h.process();
    expect(h.readStates.get('n1')).toEqual([{ id: 7, index: h.node('n1').commitIndex, ok: true }]);
    expect(h.node('n2').readIndex(8)).toBe(true);
    h.process();
    expect(h.readStates.get('n2')).toEqual([{ id: 8, index: h.node('n1').commitIndex, ok: true }]);
  });

  it('a leader cut off from its quorum never confirms a read; it fails when it steps down', () => {
    const h = new RaftHarness(ids);
    h.elect('n1');
    h.tick(1);
    h.isolate('n1');
    h.node('n1').readIndex(1);
    h.tick(5, ['n1']);
    expect(h.readStates.get('n1')).toEqual([]);
    h.tick(20, ['n1']);
    expect(h.readStates.get('n1')).toEqual([{ id: 1, index: 0, ok: false }]);
  });

  it('a member with no leader refuses at once', () => {
    const h = new RaftHarness(ids);
    expect(h.node('n2').readIndex(1)).toBe(false);
  });
});
