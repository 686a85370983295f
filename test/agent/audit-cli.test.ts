import { describe, expect, it } from 'vitest';
import { entry, openTrail, tamper, tempPath } from '../governance/audit/helpers.js';
import { runDw } from '../support/dw-process.js';

async function trailWithEntries(count: number): Promise<string> {
  const path = tempPath();
  const trail = openTrail(path);
  for (let i = 1; i <= count; i += 1)
    await trail.append(entry(i, { userId: i % 2 === 0 ? 'bob' : 'alice' }));
  trail.close();
  return path;
}

// Each step spawns a dw process; on a loaded two-core machine that takes seconds.
describe('dw audit', { timeout: 60_000 }, () => {
  it('query lists entries and filters them', async () => {
    const file = await trailWithEntries(4);
    const all = runDw(['audit', 'query', '--file', file, '--json']);
    expect(all.status, all.stderr).toBe(0);
    expect((JSON.parse(all.stdout) as { entries: unknown[] }).entries).toHaveLength(4);
    const bob = JSON.parse(
      runDw(['audit', 'query', '--file', file, '--user', 'bob', '--json']).stdout,
    ) as {
      entries: { seq: number; userId: string }[];
    };
    expect(bob.entries.map((row) => row.seq)).toEqual([2, 4]);
    const page = runDw(['audit', 'query', '--file', file, '--limit', '1', '--desc']);
    expect(page.stdout).toMatch(/^4 {2}/);
    expect(page.stdout).toContain('next page: --cursor');
  });

  it('verify passes a clean trail and names the first edited entry with exit 1', async () => {
    const file = await trailWithEntries(5);
    const clean = runDw(['audit', 'verify', '--file', file]);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('ok: 5 entries verified');
    tamper(file, (db) => {
      db.prepare("UPDATE audit_entries SET message = 'nothing to see' WHERE seq = 3").run();
    });
    const damaged = runDw(['audit', 'verify', '--file', file]);
    expect(damaged.status).toBe(1);
    expect(damaged.stdout).toContain('DAMAGED at entry 3');
  });

  it('refuses a missing file and bad options with exit 2', () => {
    expect(runDw(['audit', 'verify', '--file', '/nonexistent/audit.db']).status).toBe(2);
    expect(runDw(['audit', 'query', '--file', 'x', '--outcome', 'maybe']).status).toBe(2);
    expect(runDw(['audit', 'verify']).status).toBe(2);
  });
});
