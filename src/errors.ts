/**
 * Typed errors thrown anywhere below the CLI. Only src/cli/main.ts turns them into exit codes
 * (see ExitCode). A user-caused error carries a message that names the place and the fix; a stack
 * trace is printed only for errors that are not ExoPlaybookError (bugs).
 */

/** The CLI contract's exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  changesOrDrift: 2,
  applyPartiallyFailed: 3,
  refused: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A position in a source file, 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export abstract class ExoPlaybookError extends Error {
  abstract readonly exitCode: ExitCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: playbook, allowlist, flags, plan file. Exit 1. */
export class InputError extends ExoPlaybookError {
  readonly exitCode = ExitCode.error;
  constructor(
    message: string,
    readonly location?: SourceLocation,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Connection, session or service failure. Exit 1. */
export class SessionError extends ExoPlaybookError {
  readonly exitCode = ExitCode.error;
}

/** A safety guard refused to go on: lock held, stale plan, would break active senders, no TTY. Exit 4. */
export class RefusedError extends ExoPlaybookError {
  readonly exitCode = ExitCode.refused;
  constructor(
    message: string,
    readonly guard: 'lock' | 'stale-plan' | 'breakage' | 'confirmation' | 'quota' | 'interrupted' | 'other',
    readonly details: string[] = [],
  ) {
    super(message);
  }
}
