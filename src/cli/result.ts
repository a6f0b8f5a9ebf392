// What a command hands back to main: its exit code and what to print.

export interface CommandResult {
  exitCode: number;
  /** Lines for stdout (after any live progress has finished). */
  stdout?: string[];
}
