/** A fake ExchangeSession that records every call, for sign-in tests that need no process. */
import { SessionError } from '../../../src/errors.js';
import {
  CmdletFailure,
  type CmdletParameters,
  type ExchangeSession,
  type InvokeOptions,
  type InvokeResult,
  type PsObject,
} from '../../../src/exchange/session.js';

export interface RecordedCall {
  cmdlet: string;
  parameters: CmdletParameters;
  secretParameters: readonly string[];
}

export class RecordingSession implements ExchangeSession {
  readonly kind = 'pwsh' as const;
  readonly calls: RecordedCall[] = [];
  closed = 0;
  /** Makes the next call of this cmdlet fail with this error. */
  failNext = new Map<string, Error>();
  /** Warnings Connect-ExchangeOnline emits (e.g. a device-code prompt). */
  connectWarnings: string[] = [];

  async invoke(cmdlet: string, parameters: CmdletParameters = {}, options: InvokeOptions = {}): Promise<InvokeResult> {
    this.calls.push({ cmdlet, parameters, secretParameters: options.secretParameters ?? [] });
    const failure = this.failNext.get(cmdlet);
    if (failure) {
      this.failNext.delete(cmdlet);
      throw failure;
    }
    const warnings = cmdlet === 'Connect-ExchangeOnline' ? this.connectWarnings : [];
    for (const warning of warnings) options.onWarning?.(warning);
    const objects: PsObject[] = cmdlet === 'Get-TransportConfig' ? [{ SmtpClientAuthenticationDisabled: true }] : [];
    return { objects, warnings, errors: [] };
  }

  async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncIterable<PsObject> {
    const result = await this.invoke(cmdlet, parameters, options);
    yield* result.objects;
  }

  async close(): Promise<void> {
    this.closed += 1;
  }

  count(cmdlet: string): number {
    return this.calls.filter((call) => call.cmdlet === cmdlet).length;
  }
}

export function cmdletFailure(cmdlet: string, message: string): CmdletFailure {
  return new CmdletFailure(cmdlet, { exceptionType: 'System.Exception', fullyQualifiedErrorId: 'Fake', message });
}

export function hostCrashed(cmdlet: string): SessionError {
  return new SessionError(`${cmdlet}: the PowerShell host exited (code 134)`);
}
