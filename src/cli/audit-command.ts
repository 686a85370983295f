/**
 * `dw audit query | verify`: read a node's audit trail file directly
 * (read-only), so a trail can be checked where it lies, with no agent running.
 */

import { existsSync, readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_OUTCOMES, type AuditOutcome } from '../governance/audit/audit-entry.js';
import { AuditTrail, type AuditQuery } from '../governance/audit/audit-trail.js';
import { UsageError } from './usage-error.js';

interface TrailOptions {
  readonly file: string;
  readonly hmacKeyFile?: string;
  readonly json?: boolean;
}

interface QueryOptions extends TrailOptions {
  readonly from?: number;
  readonly to?: number;
  readonly user?: string;
  readonly resource?: string;
  readonly policy?: string;
  readonly outcome?: AuditOutcome;
  readonly limit?: number;
  readonly cursor?: string;
  readonly desc?: boolean;
}

function parseTime(value: string): number {
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(time) || time < 0) {
    throw new InvalidArgumentError(`expected an ISO time or epoch milliseconds, got '${value}'`);
  }
  return time;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1) {
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${value}'`);
  }
  return limit;
}

function openTrail(options: TrailOptions): AuditTrail {
  if (!existsSync(options.file)) throw new UsageError(`${options.file} does not exist`);
  const hmacKey =
    options.hmacKeyFile === undefined
      ? undefined
      : Buffer.from(readFileSync(options.hmacKeyFile, 'utf8').trim(), 'base64');
  return AuditTrail.open(options.file, {
    readonly: true,
    ...(hmacKey === undefined ? {} : { hmacKey }),
  });
}

function withTrailOptions(command: Command): Command {
  return command
    .requiredOption('--file <path>', 'the audit trail (audit.db in the agent’s --data-dir)')
    .option('--hmac-key-file <file>', 'the base64 HMAC key the trail was written with, if any')
    .option('--json', 'print JSON');
}

/** The `audit` command and its subcommands. */
export function auditCommand(): Command {
  // Subcommands inherit exitOverride, so a bad option exits 2 like everywhere else in dw.
  const audit = new Command('audit')
    .description('query and verify a tamper-evident audit trail (read-only)')
    .exitOverride();
  withTrailOptions(
    audit
      .command('query')
      .description('list audit entries, oldest first unless --desc')
      .option('--from <time>', 'entries at or after this time (ISO or epoch ms)', parseTime)
      .option('--to <time>', 'entries before this time (ISO or epoch ms)', parseTime)
      .option('--user <id>', 'entries of this user')
      .option('--resource <id>', 'entries on this resource')
      .option('--policy <id>', 'entries naming this policy')
      .addOption(
        new Option('--outcome <outcome>', 'entries with this outcome').choices(AUDIT_OUTCOMES),
      )
      .option('--limit <n>', 'at most this many entries (default 100)', parseLimit)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--desc', 'newest first'),
  ).action(async (options: QueryOptions) => {
    using trail = openTrail(options);
    const query: AuditQuery = {
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      ...(options.user === undefined ? {} : { userId: options.user }),
      ...(options.resource === undefined ? {} : { resourceId: options.resource }),
      ...(options.policy === undefined ? {} : { policyId: options.policy }),
      ...(options.outcome === undefined ? {} : { outcome: options.outcome }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      order: options.desc === true ? 'desc' : 'asc',
    };
    const page = await trail.query(query);
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      return;
    }
    for (const entry of page.entries) {
      process.stdout.write(
        `${String(entry.seq)}  ${new Date(entry.timestamp).toISOString()}  ${entry.outcome}  ` +
          `${entry.operation} ${entry.resourceId} by ${entry.userId || '-'}  ` +
          `[${entry.policyIds.join(',')}]  ${entry.message}\n`,
      );
    }
    for (const row of page.malformed) {
      process.stdout.write(`malformed row: ${JSON.stringify(row)}\n`);
    }
    if (page.nextCursor !== undefined)
      process.stdout.write(`next page: --cursor ${page.nextCursor}\n`);
  });
  withTrailOptions(
    audit
      .command('verify')
      .description('check the whole hash chain; exit 1 at the first bad entry'),
  ).action(async (options: TrailOptions) => {
    using trail = openTrail(options);
    const result = await trail.verify();
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else if (result.ok) {
      process.stdout.write(
        `ok: ${String(result.checkedEntries)} entries verified` +
          (result.checkpoint === undefined ? '' : ' from a sealed checkpoint') +
          `${result.macChecked ? ', MACs checked' : ''}\n`,
      );
    } else {
      process.stdout.write(
        `DAMAGED at entry ${String(result.firstBadSeq)}: ${result.reason} (${result.detail}); ` +
          `${String(result.checkedEntries)} entries before it verified\n`,
      );
    }
    if (!result.ok) process.exitCode = 1;
  });
  return audit;
}
