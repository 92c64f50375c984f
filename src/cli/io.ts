/** What a command may use to talk to the user. Tests pass their own; main.ts passes the process's. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Colour only on a TTY, and never with --no-color or NO_COLOR. */
  color: boolean;
  /** Prompts and the listr2 default renderer only when both stdin and stdout are TTYs. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(noColorFlag = false): CliIO {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const noColorEnv = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    color: Boolean(process.stdout.isTTY) && !noColorFlag && !noColorEnv,
    interactive,
    env: process.env,
    cwd: process.cwd(),
  };
}
