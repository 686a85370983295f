/**
 * Kills every process the election benchmark started when the benchmark ends,
 * however it ends: normally, on an error, or on Ctrl-C / SIGTERM / SIGHUP.
 * The agents run in their own process groups (so a whole group can be
 * SIGKILLed), which also means a Ctrl-C at the terminal does not reach them:
 * this is what stops them then.
 */

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: the process may be gone already.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' also fires after an uncaught exception; only synchronous work runs there.
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.stderr.write(`\nelection bench: ${signal}, every started process killed\n`);
      process.exit(130);
    });
  }
}

/**
 * Registers a synchronous cleanup (kill processes, remove a directory) to run
 * when the benchmark process exits or is interrupted.
 *
 * @returns Removes the cleanup again, once it has been done the ordinary way.
 */
export function onBenchExit(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** SIGKILLs a whole process group (a detached child's pid is its group id); quiet when gone. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone.
  }
}
