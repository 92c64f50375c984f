/**
 * PwshSession: the ExchangeSession that drives real PowerShell through one long-lived host.ps1
 * process (docs/PWSH-BRIDGE.md). Calls run one at a time; each has a timeout and may be cancelled;
 * a host that dies, times out or is cancelled mid-call is replaced by a fresh one on the next call,
 * and `onRestart` lets the sign-in layer run Connect-ExchangeOnline again there.
 */
import { SessionError } from '../../errors.js';
import { findPwsh, hostScriptPath, type PwshCommand } from '../find-pwsh.js';
import {
  CmdletFailure,
  type CmdletErrorRecord,
  type CmdletParameters,
  type ExchangeSession,
  type InvokeOptions,
  type InvokeResult,
  type PsObject,
  SessionLost,
} from '../session.js';
import { pwshEnvironment } from './environment.js';
import { describeExit, HostExitedWhileStarting, HostProcess, tail, type HostInfo, type HostMessage } from './host-process.js';
import { ObjectBuffer } from './object-buffer.js';
import { redactor, type Redact } from './redact.js';

export interface PwshSessionOptions {
  /** Default: findPwsh() ($EXO_PLAYBOOK_PWSH, .tools/pwsh, PATH). */
  pwshPath?: string;
  /** How to run pwshPath; default resolvePwshCommand (`dotnet pwsh.dll` behind a .NET tool launcher). */
  command?: PwshCommand;
  /** Directories put in front of PSModulePath (tests: test/fixtures/modules). */
  modulePaths?: string[];
  /** Imported at host start. Default ExchangeOnlineManagement. */
  moduleName?: string;
  /**
   * The environment pwsh's allowlisted variables come from (environment.ts: PATH, HOME, temp,
   * locale, PSModulePath, DOTNET_*, proxy…); default process.env. Nothing else of it reaches pwsh.
   */
  baseEnv?: NodeJS.ProcessEnv;
  /** Variables set for pwsh explicitly, over the allowlisted ones (tests: the stub's state file). */
  env?: Record<string, string>;
  /**
   * Never passed, even when allowlisted: the variables holding the run's token or certificate
   * password. Secrets reach the host over stdin only.
   */
  withheldEnv?: readonly string[];
  onStderr?: (line: string) => void;
  /** Console output that is not protocol (banners, a module's stray writes). */
  onStray?: (line: string) => void;
  /**
   * Called on each fresh host after a crash, timeout or cancel, before the next call runs: a host
   * starts disconnected, so the sign-in layer re-runs Connect-ExchangeOnline here with `invoke`.
   */
  onRestart?: (invoke: PwshSession['invoke']) => Promise<void> | void;
  startTimeoutMs?: number;
  /** How long close() waits for the host to quit before killing it. */
  closeGraceMs?: number;
  /** Aborting it while the first host is starting kills that host and rejects start() (early-host.ts). */
  startSignal?: AbortSignal;
}

/** The call in flight: where its messages go and how it ends. */
interface ActiveCall {
  id: number;
  cmdlet: string;
  redact: Redact;
  onObject: (object: PsObject) => void;
  onWarning: (message: string) => void;
  onError: (record: CmdletErrorRecord) => void;
  finish: (error?: Error) => void;
}

/** Above this many unread streamed objects, stop reading pwsh's stdout (backpressure). */
const HIGH_WATER = 1000;

export class PwshSession implements ExchangeSession {
  readonly kind = 'pwsh' as const;
  /** How many times a fresh host replaced a dead one. */
  restarts = 0;
  private host: HostProcess | undefined;
  private active: ActiveCall | undefined;
  private queue: Promise<void> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private connected = false;
  private restarting = false;

  private constructor(
    private readonly options: PwshSessionOptions & { pwshPath: string; moduleName: string },
  ) {}

  static async start(options: PwshSessionOptions = {}): Promise<PwshSession> {
    const pwshPath = options.pwshPath ?? findPwsh()?.path;
    if (!pwshPath) {
      throw new SessionError(
        'PowerShell 7 (pwsh) was not found: install it (https://aka.ms/powershell), run `npm run ensure-pwsh`, or set EXO_PLAYBOOK_PWSH to its path.',
      );
    }
    const session = new PwshSession({ ...options, pwshPath, moduleName: options.moduleName ?? 'ExchangeOnlineManagement' });
    session.host = await session.startHost(options.startSignal);
    return session;
  }

  /** The running host's process id (tests read /proc/<pid>/cmdline). */
  get pid(): number | undefined {
    return this.host?.pid;
  }

  get hostInfo(): HostInfo | undefined {
    return this.host?.info;
  }

  async invoke(cmdlet: string, parameters: CmdletParameters = {}, options: InvokeOptions = {}): Promise<InvokeResult> {
    const { result, sink } = collector();
    await this.serialized(() => this.run(cmdlet, parameters, options, sink));
    return result;
  }

  async *stream(cmdlet: string, parameters: CmdletParameters = {}, options: InvokeOptions = {}): AsyncIterable<PsObject> {
    const errors: CmdletErrorRecord[] = [];
    const buffer = new ObjectBuffer({ pause: () => this.host?.pauseOutput(), resume: () => this.host?.resumeOutput() }, HIGH_WATER);
    const call = this.serialized(() =>
      this.run(cmdlet, parameters, options, {
        onObject: (object) => buffer.push(object),
        onWarning: () => undefined, // run() already passes warnings to options.onWarning
        onError: (record) => errors.push(record),
      }),
    ).then(
      () => buffer.end(),
      (error: Error) => buffer.end(error),
    );
    try {
      yield* buffer.drain();
      const first = errors[0];
      if (first) throw new CmdletFailure(cmdlet, first);
    } finally {
      // A consumer that stops early: the call still runs to its end so the host stays in step.
      buffer.abandon();
      await call;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.catch(() => undefined);
    // A host killed under a cancelled or timed-out call is gone: never start a fresh one (and sign in
    // again) only to sign out.
    if (this.connected && this.host && !this.host.exited && !this.host.killed) {
      await this.run('Disconnect-ExchangeOnline', {}, { timeoutMs: 10_000 }, collector().sink).catch(() => undefined);
    }
    this.closed = true;
    await this.host?.quit(this.options.closeGraceMs ?? 3000);
    this.host = undefined;
  }

  /**
   * Ends the host at once, without signing out: SIGKILL to its process group, then waits for its exit
   * (a call in flight, e.g. a Connect-ExchangeOnline, fails with SessionLost). For a session
   * abandoned before it was ever used; the session is closed afterwards.
   */
  async kill(): Promise<void> {
    this.closed = true;
    const host = this.host;
    if (!host) return;
    host.kill();
    await host.quit(0);
    if (this.host === host) this.host = undefined;
  }

  /** Calls share one pwsh, so they run one after another. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * A host that ended on its own before "ready" is started once more: it had not signed in or run
   * anything, so nothing reached the tenant. Seen once in a full test run on an idle machine
   * (PowerShell's "An error has occurred that was not properly handled" banner at start, exit code
   * 0, no stack); a second failure is reported as it is. The first one's output goes to stderr.
   */
  private async startHost(startSignal?: AbortSignal): Promise<HostProcess> {
    try {
      return await this.startHostOnce(startSignal);
    } catch (error) {
      if (!(error instanceof HostExitedWhileStarting) || startSignal?.aborted || this.closed) throw error;
      for (const line of `${error.message}; starting it once more`.split('\n')) this.options.onStderr?.(line);
      return await this.startHostOnce(startSignal);
    }
  }

  private async startHostOnce(startSignal?: AbortSignal): Promise<HostProcess> {
    const { options } = this;
    // Set once started; an exit before that is reported by HostProcess.start itself.
    const self: { host?: HostProcess } = {};
    self.host = await HostProcess.start({
      pwshPath: options.pwshPath,
      ...(options.command ? { command: options.command } : {}),
      hostScript: hostScriptPath,
      moduleName: options.moduleName,
      env: pwshEnvironment({
        base: options.baseEnv ?? process.env,
        ...(options.env ? { extra: options.env } : {}),
        withheld: options.withheldEnv ?? [],
        modulePaths: options.modulePaths ?? [],
      }),
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      ...(startSignal ? { startSignal } : {}),
      onMessage: (message) => this.onMessage(message),
      onStderr: (line) => options.onStderr?.(this.active ? this.active.redact(line) : line),
      onStray: (line) => options.onStray?.(this.active ? this.active.redact(line) : line),
      onExit: (code, signal) => {
        const call = this.active;
        // A host killed on purpose (timeout, cancel) may report its exit after a fresh one took over.
        const started = self.host;
        if (!call || !started || this.host !== started) return;
        const stderr = started.stderrTail;
        call.finish(
          new SessionLost(
            call.redact(
              `PowerShell exited during ${call.cmdlet} (${describeExit(code, signal)}); the next call starts a fresh PowerShell${tail(stderr)}`,
            ),
          ),
        );
      },
    });
    return self.host;
  }

  /** A live host for the next call: the current one, or a fresh one (then onRestart) after a failure. */
  private async liveHost(): Promise<HostProcess> {
    if (this.closed) throw new SessionError('The PowerShell session is closed.');
    if (this.host && !this.host.exited && !this.host.killed) return this.host;
    this.host = await this.startHost();
    this.restarts += 1;
    this.connected = false;
    if (this.options.onRestart && !this.restarting) {
      this.restarting = true;
      try {
        // Runs on the fresh host directly: the caller's call holds the queue until this is done.
        await this.options.onRestart((cmdlet, parameters = {}, callOptions = {}) => {
          const { result, sink } = collector();
          return this.run(cmdlet, parameters, callOptions, sink).then(() => result);
        });
      } finally {
        this.restarting = false;
      }
    }
    return this.host;
  }

  private async run(
    cmdlet: string,
    parameters: CmdletParameters,
    options: InvokeOptions,
    sink: CallSink,
  ): Promise<void> {
    const redact = redactor(parameters, options.secretParameters);
    if (options.signal?.aborted) throw new SessionError(`${cmdlet} was cancelled before it started.`);
    const host = await this.liveHost();
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.active = {
          id,
          cmdlet,
          redact,
          onObject: sink.onObject,
          onWarning: (message) => {
            sink.onWarning(message);
            options.onWarning?.(message);
          },
          onError: sink.onError,
          finish: (error) => (error ? reject(error) : resolve()),
        };
        // Stopping a call in the middle leaves the host in an unknown state: kill it; the next call
        // gets a fresh one.
        const abandon = (why: string): void => {
          reject(new SessionError(why));
          host.kill();
        };
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(
            () => abandon(`${cmdlet} timed out after ${options.timeoutMs} ms; PowerShell was stopped and the next call starts a fresh one.`),
            options.timeoutMs,
          );
        }
        if (options.signal) {
          onAbort = () => abandon(`${cmdlet} was cancelled; PowerShell was stopped and the next call starts a fresh one.`);
          options.signal.addEventListener('abort', onAbort, { once: true });
        }
        host.send({ type: 'invoke', id, cmdlet, parameters, ...(options.select ? { select: options.select } : {}) });
      });
      if (/^Connect-ExchangeOnline$/i.test(cmdlet)) this.connected = true;
      if (/^Disconnect-ExchangeOnline$/i.test(cmdlet)) this.connected = false;
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      this.active = undefined;
    }
  }

  private onMessage(message: HostMessage): void {
    const call = this.active;
    if (!call || !('id' in message) || message.id !== call.id) return;
    switch (message.type) {
      case 'object':
        call.onObject(message.data);
        break;
      case 'objects':
        // Still one by one to the caller: a batch is only how they travel.
        for (const object of message.data) call.onObject(object);
        break;
      case 'warning':
        call.onWarning(message.message);
        break;
      case 'error':
        call.onError(redactRecord(message.record, call.redact));
        break;
      case 'end':
        if (message.ok) call.finish();
        else
          call.finish(
            new CmdletFailure(call.cmdlet, redactRecord(message.record ?? unknownFailure(call.cmdlet), call.redact)),
          );
        break;
    }
  }
}

type CallSink = Pick<ActiveCall, 'onObject' | 'onWarning' | 'onError'>;

/** A sink that gathers a call's output into an InvokeResult. */
function collector(): { result: InvokeResult; sink: CallSink } {
  const result: InvokeResult = { objects: [], warnings: [], errors: [] };
  return {
    result,
    sink: {
      onObject: (object) => result.objects.push(object),
      onWarning: (message) => result.warnings.push(message),
      onError: (record) => result.errors.push(record),
    },
  };
}

function redactRecord(record: CmdletErrorRecord, redact: Redact): CmdletErrorRecord {
  return {
    ...record,
    message: redact(record.message),
    ...(record.target != null ? { target: redact(record.target) } : {}),
  };
}

function unknownFailure(cmdlet: string): CmdletErrorRecord {
  return { exceptionType: 'Unknown', fullyQualifiedErrorId: 'Unknown', message: `${cmdlet} failed without an error record.` };
}
