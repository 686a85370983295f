import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTRACT_VERSION } from '../../src/contracts/common.js';

describe('CONTRACT_VERSION', () => {
  it('matches the contractVersion the documentation check enforces in @since tags', () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { contractVersion: string };
    expect(CONTRACT_VERSION).toBe(manifest.contractVersion);
  });
});
