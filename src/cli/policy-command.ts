/**
 * `dw policy add | list | remove | test`: the cluster's governance policies,
 * through a running agent.
 */

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { agentClient } from './agent-client.js';
import { DEFAULT_AGENT_URL } from './cluster-commands.js';
import { UsageError } from './usage-error.js';

interface AgentOptions {
  readonly agent: string;
  readonly apiTokenFile?: string;
  readonly json?: boolean;
}

interface PolicyView {
  readonly policyId: string;
  readonly name: string;
  readonly type: string;
  readonly action: string;
  readonly priority: number;
  readonly isEnabled: boolean;
  readonly expression: string;
}

interface CandidateView {
  readonly policyId: string;
  readonly action: string;
  readonly priority: number;
  readonly outcome: string;
  readonly reason?: string;
  readonly applied: boolean;
}

interface ExplanationView {
  readonly result: { readonly isAllowed: boolean; readonly requiredActions: readonly string[] };
  readonly policySetVersion: number;
  readonly candidates: readonly CandidateView[];
  readonly skipped: readonly { readonly policyId: string }[];
  readonly disabled: readonly string[];
}

function withAgentOptions(command: Command): Command {
  return command
    .option('--agent <url>', 'the running agent to ask', DEFAULT_AGENT_URL)
    .option('--api-token-file <file>', 'the agent’s API token file, when it requires one')
    .option('--json', 'print the agent’s JSON answer');
}

/** Reads a JSON document from a file, or standard input for `-`. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The `policy` command and its subcommands. */
export function policyCommand(): Command {
  // Subcommands inherit exitOverride, so a bad option exits 2 like everywhere else in dw.
  const policy = new Command('policy')
    .description('manage the cluster’s governance policies (CEL) through a running agent')
    .exitOverride();
  withAgentOptions(
    policy
      .command('add')
      .description('register a policy on every node, from a JSON file (or - for standard input)')
      .argument('<policy.json>'),
  ).action(async (file: string, options: AgentOptions) => {
    const body = readJson(file);
    const client = await agentClient(options.agent, options.apiTokenFile);
    const answer = (await client.call('POST', '/v1/governance/policies', body)) as {
      policy: PolicyView;
      configRevision?: number;
    };
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify(answer, null, 2)}\n`
        : `added ${answer.policy.policyId}` +
            (answer.configRevision === undefined
              ? '\n'
              : ` (configuration revision ${String(answer.configRevision)})\n`),
    );
  });
  withAgentOptions(policy.command('list').description('list the active policies')).action(
    async (options: AgentOptions) => {
      const client = await agentClient(options.agent, options.apiTokenFile);
      const answer = (await client.call('GET', '/v1/governance/policies')) as {
        policies: PolicyView[];
      };
      process.stdout.write(
        options.json === true
          ? `${JSON.stringify(answer, null, 2)}\n`
          : answer.policies
              .map(
                (entry) =>
                  `${entry.policyId}  ${entry.type}  ${entry.action}  priority ${String(entry.priority)}` +
                  `${entry.isEnabled ? '' : '  (disabled)'}  ${entry.expression}\n`,
              )
              .join(''),
      );
    },
  );
  withAgentOptions(
    policy.command('remove').description('remove a policy from every node').argument('<policyId>'),
  ).action(async (policyId: string, options: AgentOptions) => {
    const client = await agentClient(options.agent, options.apiTokenFile);
    await client.call('DELETE', `/v1/governance/policies/${encodeURIComponent(policyId)}`);
    process.stdout.write(options.json === true ? '{}\n' : `removed ${policyId}\n`);
  });
  withAgentOptions(
    policy
      .command('test')
      .description(
        'print the decision for a context (JSON file or -) with its trace: which policies applied, which matched, and why',
      )
      .argument('<context.json>'),
  ).action(async (file: string, options: AgentOptions) => {
    const body = readJson(file);
    const client = await agentClient(options.agent, options.apiTokenFile);
    const answer = (await client.call('POST', '/v1/governance/explain', body)) as ExplanationView;
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      return;
    }
    const lines = [
      `decision: ${answer.result.isAllowed ? 'ALLOW' : 'DENY'}` +
        (answer.result.requiredActions.length === 0
          ? ''
          : ` (required: ${answer.result.requiredActions.join(', ')})`),
      `policy set version ${String(answer.policySetVersion)}`,
      ...answer.candidates.map(
        (candidate) =>
          `  ${candidate.policyId} (${candidate.action}, priority ${String(candidate.priority)}): ` +
          `${candidate.outcome}${candidate.applied ? ', applied' : ''}` +
          (candidate.reason === undefined ? '' : ` — ${candidate.reason}`),
      ),
      ...answer.skipped.map((skipped) => `  ${skipped.policyId}: not applicable (index)`),
      ...answer.disabled.map((policyId) => `  ${policyId}: disabled`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
  return policy;
}
