/**
 * For a benchmark's child process (a server, a client fleet): exit when the parent goes away.
 * A bench that fails mid-run must not leave its server behind, still busy with its queue and
 * taking the cores from the next run (its IPC channel closes when the parent dies).
 */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(1));
}
