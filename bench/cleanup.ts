// Teardown that runs whichever way the bench ends: normal return, thrown error,
// Ctrl-C or SIGTERM. Servers and workers register here while they live, so an
// interrupted bench leaves no process and no temporary directory behind.

type Teardown = () => Promise<void>;

const teardowns = new Set<Teardown>();
let interrupted = false;

/** Registers a teardown; returns the function that runs it once and unregisters it. */
export function onCleanup(teardown: Teardown): () => Promise<void> {
  let done = false;
  const once: Teardown = async () => {
    if (done) return;
    done = true;
    teardowns.delete(once);
    await teardown();
  };
  teardowns.add(once);
  return once;
}

/** Runs every registered teardown, newest first; one failure does not stop the others. */
export async function cleanupAll(): Promise<void> {
  for (const teardown of [...teardowns].reverse()) {
    try {
      await teardown();
    } catch (error) {
      console.error(`cleanup failed: ${(error as Error).message}`);
    }
  }
}

export function wasInterrupted(): boolean {
  return interrupted;
}

/** On SIGINT/SIGTERM: tear everything down, then exit with 128 + signal number. */
export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals, code: number) => {
    process.on(signal, () => {
      if (interrupted) return; // A second Ctrl-C while cleaning up changes nothing.
      interrupted = true;
      console.error(`\n${signal}: stopping servers and workers`);
      void cleanupAll().finally(() => process.exit(code));
    });
  };
  handle('SIGINT', 130);
  handle('SIGTERM', 143);
}

/**
 * Runs a benchmark program's `main` with the signal handlers installed and
 * every teardown run at its end; a failure is printed as "NAME: message" and
 * exits 1.
 */
export function runProgram(name: string, main: () => Promise<void>): void {
  installSignalHandlers();
  main()
    .catch((error: unknown) => {
      console.error(`${name}: ${(error as Error).message}`);
      process.exitCode = 1;
    })
    .finally(() => cleanupAll());
}
