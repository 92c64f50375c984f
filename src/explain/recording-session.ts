/**
 * A session over an empty tenant that only writes down what it is asked. `explain` without a target
 * runs each action's own observe against it, so the reads it prints are the ones the action really
 * makes (kept in step with the actions by construction, not by a copied list).
 */
import type { CmdletParameters, ExchangeSession, InvokeResult, PsObject } from '../exchange/session.js';
import { SessionError } from '../errors.js';
import { isWriteCmdlet } from '../exchange/session.js';
import type { CmdletCall } from './calls.js';

export class RecordingSession implements ExchangeSession {
  readonly kind = 'simulator' as const;
  readonly calls: CmdletCall[] = [];

  async invoke(cmdlet: string, parameters: CmdletParameters = {}): Promise<InvokeResult> {
    // Observe never writes; if one ever tried, explain must not pretend it would be harmless.
    if (isWriteCmdlet(cmdlet)) throw new SessionError(`explain: observe tried to run ${cmdlet}`);
    this.calls.push({ cmdlet, parameters });
    return { objects: [], warnings: [], errors: [] };
  }

  async *stream(cmdlet: string, parameters: CmdletParameters = {}): AsyncIterable<PsObject> {
    yield* (await this.invoke(cmdlet, parameters)).objects;
  }

  async close(): Promise<void> {}

  /** Calls recorded since `from`. */
  since(from: number): CmdletCall[] {
    return this.calls.slice(from);
  }
}
