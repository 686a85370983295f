import { describe, expect, it } from 'vitest';
import type { GovernanceContext } from '../../../src/contracts/auto-governance.js';
import { DistributedError } from '../../../src/contracts/errors.js';
import { Classifier } from '../../../src/core/governance/classification/classifier.js';
import {
  PARTIAL_SCAN_LABEL,
  classifyForGovernance,
} from '../../../src/governance/compliance/classify-for-governance.js';
import { createCompliancePolicies } from '../../../src/governance/compliance/compliance-policies.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';

const CARD = 'card 4111 1111 1111 1111 exp 12/29';
const EMAIL = 'contact: alice@example.com';
const PLAIN = 'the quick brown fox jumps over the lazy dog';

async function governanceWith(quarantineUnclassified: boolean) {
  const governance = new CelAutoGovernance({ onListenerError: () => undefined });
  for (const policy of createCompliancePolicies({ quarantineUnclassified })) {
    await governance.registerPolicy(policy);
  }
  return governance;
}

const write = (content: string, metadata: Record<string, string> = {}): GovernanceContext => ({
  operationType: 'write',
  resourceId: 'upload-1',
  metadata,
  resource: classifyForGovernance(content, { path: '/uploads/1.txt' }).resource,
});

describe('classifyForGovernance', () => {
  it('fills labels and a classification level from the detectors', () => {
    const card = classifyForGovernance(CARD, { path: '/a', labels: ['tenant.a'] });
    expect(card.resource.labels).toEqual(['tenant.a', 'pci.card']);
    expect(card.resource.classification).toBe('confidential');
    expect(card.resource.path).toBe('/a');
    expect(card.confidences['pci.card']).toBeGreaterThan(0.9);
    expect(classifyForGovernance('server 10.0.0.1').resource.classification).toBe('internal');
    expect(classifyForGovernance(PLAIN).resource).toEqual({
      labels: [],
      classification: 'general',
    });
    // A hand-applied label counts for the level, and is never taken away.
    expect(classifyForGovernance(PLAIN, { labels: ['pii.manual'] }).resource).toEqual({
      labels: ['pii.manual'],
      classification: 'confidential',
    });
  });

  it('drops labels below the threshold from the list but reports their confidence', () => {
    const result = classifyForGovernance(EMAIL, {}, { labelConfidence: 1 });
    expect(result.resource.labels).toEqual([]);
    expect(result.confidences['pii.email']).toBeGreaterThan(0);
  });

  it('marks partly scanned content, uses custom detectors, and checks its options', () => {
    const long = `${PLAIN} ${'x'.repeat(200)} ${CARD}`;
    const partial = classifyForGovernance(long, {}, { maxScanBytes: 64 });
    expect(partial.resource.labels).toEqual([PARTIAL_SCAN_LABEL]);
    expect(partial.result.truncated).toBe(true);
    const classifier = new Classifier();
    classifier.registerPattern({
      name: 'emp',
      label: 'pii.employee-id',
      pattern: 'EMP-\\d{6}',
      confidence: 0.9,
    });
    expect(classifyForGovernance('id EMP-123456', {}, { classifier }).resource.labels).toEqual([
      'pii.employee-id',
    ]);
    expect(() => classifyForGovernance(PLAIN, {}, { labelConfidence: 2 })).toThrow(
      DistributedError,
    );
    expect(() => classifyForGovernance(CARD, { labels: ['a', 'b'] }, { maxLabels: 2 })).toThrow(
      DistributedError,
    );
  });
});

describe('compliance policies through CelAutoGovernance', () => {
  it('PII or PCI written unencrypted at rest requires encrypt', async () => {
    const governance = await governanceWith(false);
    for (const content of [CARD, EMAIL]) {
      const result = await governance.evaluate(write(content));
      expect(result.isAllowed).toBe(true);
      expect(result.requiredActions).toEqual(['encrypt']);
    }
    expect((await governance.evaluate(write(CARD, { encrypted: 'true' }))).requiredActions).toEqual(
      [],
    );
    expect(
      (await governance.evaluate(write(CARD, { encrypted: 'false' }))).requiredActions,
    ).toEqual(['encrypt']);
    expect((await governance.evaluate(write(PLAIN))).requiredActions).toEqual([]);
    // Reads are not writes.
    expect(
      (await governance.evaluate({ ...write(CARD), operationType: 'read' })).requiredActions,
    ).toEqual([]);
  });

  it('unclassified uploads are quarantined only when the setting says so', async () => {
    const unclassified: GovernanceContext = {
      operationType: 'write',
      resourceId: 'upload-2',
      metadata: {},
      resource: { path: '/uploads/2.bin' },
    };
    const off = await governanceWith(false);
    expect(await off.evaluate(unclassified)).toMatchObject({
      isAllowed: true,
      requiredActions: [],
    });
    const on = await governanceWith(true);
    expect(await on.evaluate(unclassified)).toMatchObject({
      isAllowed: true,
      requiredActions: ['quarantine'],
    });
    expect((await on.evaluate(write(PLAIN))).requiredActions).toEqual([]);
    expect((await on.evaluate(write(EMAIL))).requiredActions).toEqual(['encrypt']);
  });

  it('custom operations and prefixes, and refuses empty lists', async () => {
    const governance = new CelAutoGovernance({ onListenerError: () => undefined });
    for (const policy of createCompliancePolicies({
      idPrefix: 'gdpr.',
      writeOperations: ['put', 'upload'],
      sensitiveLabelPrefixes: ['pii.'],
    })) {
      await governance.registerPolicy(policy);
    }
    expect(
      (await governance.evaluate({ ...write(EMAIL), operationType: 'upload' })).requiredActions,
    ).toEqual(['encrypt']);
    expect(
      (await governance.evaluate({ ...write(CARD), operationType: 'upload' })).requiredActions,
    ).toEqual([]);
    expect((await governance.evaluate(write(EMAIL))).requiredActions).toEqual([]);
    expect(() => createCompliancePolicies({ writeOperations: [] })).toThrow(DistributedError);
  });
});
