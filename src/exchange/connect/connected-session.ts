/**
 * A session that stays signed in: it reconnects before a call when the token is close to expiry
 * (a call must not start with a token that dies mid-call; REST cmdlets may run for minutes) and
 * after the pwsh host restarted (a new process has no sign-in), and disconnects on close.
 */
import { SessionError } from '../../errors.js';
import type { CmdletParameters, ExchangeSession, InvokeOptions, InvokeResult, PsObject } from '../session.js';
import type { ConnectReason, Connector } from './connector.js';

/** Renew when less than this is left: longer than most single calls, shorter than any token's life. */
export const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface ConnectedSessionOptions {
  now?: () => number;
  log?: (line: string) => void;
  /**
   * Sign in again before the next call after a transport failure (SessionError: the host died or
   * was killed). Default true; false when the session's own restart hook already reconnects the
   * fresh host (PwshSession onRestart), so the sign-in does not run twice.
   */
  reconnectAfterFailure?: boolean;
}

export class ConnectedSession implements ExchangeSession {
  readonly kind: ExchangeSession['kind'];
  /** The next call must sign in first (restart hook, or a failure when reconnectAfterFailure). */
  private restarted = false;
  /** The last call failed in transport: the host may be gone, so close() skips Disconnect. */
  private hostMayBeGone = false;
  private reconnecting: Promise<void> | null = null;
  private closed = false;
  private readonly clock: () => number;
  /** The inner session's tenant clock, passed through (absent when the inner session has none). */
  readonly now?: () => Date;

  private constructor(
    /** The session underneath (tests read PwshSession.pid from it). */
    readonly inner: ExchangeSession,
    private readonly connector: Connector,
    private readonly options: ConnectedSessionOptions,
  ) {
    this.kind = inner.kind;
    if (inner.now) this.now = () => inner.now!();
    this.clock = options.now ?? Date.now;
  }

  /** Connects once; if that fails the inner session is closed and the sign-in error thrown. */
  static async open(inner: ExchangeSession, connector: Connector, options: ConnectedSessionOptions = {}): Promise<ConnectedSession> {
    try {
      await connector.connect(inner, 'initial');
    } catch (error) {
      await inner.close().catch(() => undefined);
      throw error;
    }
    return new ConnectedSession(inner, connector, options);
  }

  /** Called by the host's restart hook: the next call signs in again first. */
  markRestarted(): void {
    this.restarted = true;
  }

  async invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): Promise<InvokeResult> {
    await this.ensureConnected();
    try {
      const result = await this.inner.invoke(cmdlet, parameters, options);
      this.hostMayBeGone = false;
      return result;
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncIterable<PsObject> {
    await this.ensureConnected();
    try {
      yield* this.inner.stream(cmdlet, parameters, options);
      this.hostMayBeGone = false;
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // A dead host is not signed in: starting (and signing in) a new one only to disconnect is waste.
      if (!this.restarted && !this.hostMayBeGone) await this.inner.invoke('Disconnect-ExchangeOnline', { Confirm: false });
    } catch (error) {
      this.options.log?.(`sign-out: Disconnect-ExchangeOnline failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await this.inner.close();
    }
  }

  /** A transport failure means the pwsh host died or was killed (timeout); its replacement is not signed in. */
  private noteFailure(error: unknown): void {
    if (!(error instanceof SessionError)) return;
    this.hostMayBeGone = true;
    if (this.options.reconnectAfterFailure !== false) this.restarted = true;
  }

  private dueReason(): ConnectReason | null {
    if (this.restarted) return 'restart';
    const expiresOn = this.connector.expiresOn();
    if (expiresOn && expiresOn.getTime() - this.clock() < RENEW_BEFORE_EXPIRY_MS) return 'expiry';
    return null;
  }

  private async ensureConnected(): Promise<void> {
    if (this.closed) throw new SessionError('the Exchange session is closed');
    // Concurrent callers share one reconnect instead of each signing in.
    while (this.reconnecting) await this.reconnecting;
    const reason = this.dueReason();
    if (!reason) return;
    this.reconnecting = (async () => {
      this.options.log?.(`sign-in: reconnecting (${reason === 'restart' ? 'the PowerShell host restarted' : 'the token is about to expire'})`);
      await this.connector.connect(this.inner, reason);
      this.restarted = false;
    })();
    try {
      await this.reconnecting;
    } finally {
      this.reconnecting = null;
    }
  }
}
