import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The documentation check must fail when a comment or a @since tag goes missing.
function checkDocs(fixture: string): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    ['scripts/check-docs.mjs', `test/fixtures/docs/${fixture}`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('the documentation check', () => {
  it('passes a fully documented module', () => {
    const result = checkDocs('documented.ts');
    expect(result.output).toMatch(/every export documented/);
    expect(result.status).toBe(0);
  });

  it('fails when a member has no comment', () => {
    const result = checkDocs('missing-member-doc.ts');
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/Documented\.value .*does not have any documentation/);
  });

  it('fails when an export has no @since tag', () => {
    const result = checkDocs('missing-since.ts');
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/documented: no @since tag/);
  });

  it('fails when an export has the wrong @since', () => {
    const result = checkDocs('wrong-since.ts');
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/Documented: @since is '1\.0\.0'/);
  });
});
