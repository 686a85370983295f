import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built `dw` entry point; `npm test` builds before running the tests. */
export const DW_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function requireBuilt(): void {
  if (!existsSync(DW_MAIN)) {
    throw new Error(`${DW_MAIN} is missing: run \`npm run build\` (npm test does) first`);
  }
}

/** Runs `dw` to completion. */
export function runDw(args: readonly string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  requireBuilt();
  const result = spawnSync(process.execPath, [DW_MAIN, ...args], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A running `dw agent` process and its JSON log lines. */
export interface AgentProcess {
  readonly url: string;
  /** Where a networked agent (`--bind`) listens for peers, as `host:port`; absent otherwise. */
  readonly clusterAddress?: string;
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
}

/** Starts `dw agent` and waits for its `agent listening` log line. */
export async function startAgentProcess(args: readonly string[]): Promise<AgentProcess> {
  requireBuilt();
  const child = spawn(process.execPath, [DW_MAIN, 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        reject(new Error(`dw agent wrote a line that is not JSON: ${line}`));
        return;
      }
      logs.push(entry);
      if (entry['msg'] === 'agent listening') resolve(entry);
    });
    void exited.then((code) => reject(new Error(`dw agent exited with ${code}: ${stderr}`)));
  });
  const url = String(listening['url']);
  const cluster = listening['clusterAddress'];
  return {
    url,
    ...(typeof cluster === 'string' ? { clusterAddress: cluster } : {}),
    child,
    logs,
    exited,
  };
}
