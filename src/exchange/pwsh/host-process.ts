/**
 * One running `pwsh -File host.ps1`: starts it, performs the hello/ready handshake, and turns the
 * token-prefixed stdout lines into messages. It knows nothing about calls, timeouts or restarts
 * (src/exchange/pwsh/session.ts does); it only reports lines and its own death.
 *
 * No PowerShell outlives its HostProcess: behind a .NET tool launcher it runs `dotnet pwsh.dll`
 * directly (one process, find-pwsh.ts); it starts pwsh in a process group of its own and kills the
 * whole group; and host.ps1 kills itself when its stdin closes without "quit" (this process died).
 * The group also keeps a Ctrl-C at the terminal from reaching pwsh: the CLI decides what a Ctrl-C
 * does to the call in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { SessionError } from '../../errors.js';
import { resolvePwshCommand, type PwshCommand } from '../find-pwsh.js';
import type { CmdletErrorRecord, PsObject } from '../session.js';

/** A message from host.ps1 (after the token prefix). */
export type HostMessage =
  /** `host`: which loop serves, the compiled one (host-writer.cs, cached) or host.ps1's PowerShell one. */
  | { type: 'ready'; psVersion: string; module: string | null; moduleVersion: string | null; host?: 'compiled' | 'powershell' }
  | { type: 'fatal'; record: CmdletErrorRecord }
  | { type: 'object'; id: number; data: PsObject }
  /** Several objects in output order (host.ps1 batches them: one line per 256 objects or 50 ms). */
  | { type: 'objects'; id: number; data: PsObject[] }
  | { type: 'warning'; id: number; message: string }
  | { type: 'error'; id: number; record: CmdletErrorRecord }
  | { type: 'end'; id: number; ok: boolean; record?: CmdletErrorRecord };

export interface HostProcessOptions {
  pwshPath: string;
  /** How to run it; default resolvePwshCommand(pwshPath) (`dotnet pwsh.dll` behind a .NET tool launcher). */
  command?: PwshCommand;
  hostScript: string;
  moduleName: string;
  /** The whole environment of pwsh (nothing is inherited): see environment.ts. */
  env: Record<string, string>;
  startTimeoutMs: number;
  onMessage: (message: HostMessage) => void;
  onStderr: (line: string) => void;
  /** Console output without the token: a banner or a module's stray write. Never protocol. */
  onStray: (line: string) => void;
  onExit: (code: number | null, signal: string | null) => void;
  /** Aborting it while the host is still starting kills it and rejects start() (an early host nobody claimed). */
  startSignal?: AbortSignal;
}

export interface HostInfo {
  psVersion: string;
  moduleVersion: string | null;
}

const STDERR_TAIL = 20;

/**
 * PowerShell ended on its own before it said "ready" (before any sign-in, so before anything reached
 * a tenant): not a module that failed to import ("fatal"), not a timeout, not a stop the run asked
 * for. The session starts a fresh host once for it (session.ts).
 */
export class HostExitedWhileStarting extends SessionError {}

const writerKeys = new Map<string, string | null>();
/**
 * host.ps1's -WriterKey: the first 16 hex digits of the SHA-256 of host-writer.cs beside it, the name
 * of its compiled copy in the cache. Computed here (once per script) because a SHA-256 costs pwsh
 * 10-20 ms at start; null (host.ps1 computes it) when the file cannot be read.
 */
export function writerKeyFor(hostScript: string): string | null {
  let key = writerKeys.get(hostScript);
  if (key === undefined) {
    try {
      key = createHash('sha256').update(readFileSync(join(dirname(hostScript), 'host-writer.cs'))).digest('hex').slice(0, 16);
    } catch {
      key = null;
    }
    writerKeys.set(hostScript, key);
  }
  return key;
}

export class HostProcess {
  readonly token = randomBytes(16).toString('hex');
  readonly stderrTail: string[] = [];
  /** Console lines without the token (PowerShell's own crash banner goes to stdout), the last few. */
  readonly strayTail: string[] = [];
  exited = false;
  /** Set at kill(), before the exit event: a killed host takes no more calls. */
  killed = false;
  info: HostInfo | undefined;
  private readonly child: ChildProcess;
  private readonly stdoutLines: Interface;

  private constructor(private readonly options: HostProcessOptions) {
    const { command, args } = options.command ?? resolvePwshCommand(options.pwshPath, options.env);
    // argv carries no secret and no token: both travel over stdin (the writer key is a hash of our own
    // source). node:child_process, not execa: importing execa cost ~0.1 s before PowerShell could even
    // start (docs/PERFORMANCE.md).
    const writerKey = writerKeyFor(options.hostScript);
    this.child = spawn(command, [...args, '-NoLogo', '-NoProfile', '-NonInteractive', '-File', options.hostScript, ...(writerKey ? ['-WriterKey', writerKey] : [])], {
      // The whole environment: nothing of the CLI's is inherited (environment.ts).
      env: options.env,
      // Its own process group (POSIX): kill() ends the group, and a terminal's Ctrl-C does not reach it.
      detached: process.platform !== 'win32',
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    // 'close', not 'exit': it comes after stdout and stderr are drained, so the last stderr lines
    // (often the reason it died) are in stderrTail when the death is reported.
    this.child.on('close', (code, signal) => {
      this.exited = true;
      options.onExit(code, signal);
    });
    // Writing to a host that just died must not crash the runner: the exit handler reports it.
    this.child.stdin?.on('error', () => undefined);
    this.stdoutLines = createInterface({ input: this.child.stdout!, crlfDelay: Infinity });
    this.stdoutLines.on('line', (line) => this.onStdoutLine(line));
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      options.onStderr(line);
    });
    // A spawn failure (ENOENT, EACCES) is followed by 'close' (code -2…), which reports it above.
    this.child.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Start pwsh, send the hello line (token + module name), wait until the module is imported. */
  static async start(options: HostProcessOptions): Promise<HostProcess> {
    let settle: ((error?: Error) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const host = new HostProcess({
      ...options,
      onMessage: (message) => {
        if (message.type === 'ready') {
          host.info = { psVersion: message.psVersion, moduleVersion: message.moduleVersion };
          settle?.();
        } else if (message.type === 'fatal') {
          settle?.(new SessionError(`PowerShell could not import the module '${options.moduleName}': ${message.record.message}`));
        } else {
          options.onMessage(message);
        }
      },
      onExit: (code, signal) => {
        const stray = host.strayTail.filter((line) => line.trim()).slice(-5);
        const printed = stray.length ? `; it printed:\n  ${stray.join('\n  ')}` : '';
        settle?.(new HostExitedWhileStarting(`PowerShell (${options.pwshPath}) exited while starting (${describeExit(code, signal)})${printed}${tail(host.stderrTail)}`));
        options.onExit(code, signal);
      },
    });
    const timer = setTimeout(
      () => settle?.(new SessionError(`PowerShell (${options.pwshPath}) did not start within ${options.startTimeoutMs} ms${tail(host.stderrTail)}`)),
      options.startTimeoutMs,
    );
    const onAbort = () => settle?.(new SessionError('PowerShell was stopped while starting: the run did not need it'));
    if (options.startSignal?.aborted) onAbort();
    options.startSignal?.addEventListener('abort', onAbort, { once: true });
    host.send({ type: 'hello', token: host.token, module: options.moduleName });
    try {
      await ready;
      return host;
    } catch (error) {
      host.kill();
      throw error;
    } finally {
      clearTimeout(timer);
      options.startSignal?.removeEventListener('abort', onAbort);
      settle = undefined;
    }
  }

  send(message: unknown): void {
    if (this.exited) return;
    this.child.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  pauseOutput(): void {
    this.stdoutLines.pause();
  }

  resumeOutput(): void {
    this.stdoutLines.resume();
  }

  /** SIGKILL to pwsh's whole process group (a launcher and its child alike). */
  kill(): void {
    this.killed = true;
    if (this.exited) return;
    const pid = this.child.pid;
    if (pid !== undefined && process.platform !== 'win32') {
      try {
        process.kill(-pid, 'SIGKILL');
        return;
      } catch {
        // No such group (already gone): fall through to the process itself.
      }
    }
    this.child.kill('SIGKILL');
  }

  /** Ask the host to quit; kill it when it has not exited after the grace period. */
  async quit(graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.send({ type: 'quit' });
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private onStdoutLine(line: string): void {
    const prefix = `${this.token} `;
    if (!line.startsWith(prefix)) {
      this.stray(line);
      return;
    }
    let message: HostMessage;
    try {
      message = JSON.parse(line.slice(prefix.length)) as HostMessage;
    } catch {
      this.stray(line);
      return;
    }
    this.options.onMessage(message);
  }

  private stray(line: string): void {
    this.strayTail.push(line);
    if (this.strayTail.length > STDERR_TAIL) this.strayTail.shift();
    this.options.onStray(line);
  }
}

export function describeExit(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
}

export function tail(lines: readonly string[]): string {
  return lines.length ? `; last stderr lines:\n  ${lines.slice(-5).join('\n  ')}` : '';
}
