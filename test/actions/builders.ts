/**
 * Builders for action tests: small tenants in the simulator's state format, a RunContext over a
 * SimulatedSession that counts calls, and plan inputs.
 */
import { SimulatedSession } from '../../src/exchange/simulator/session.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import type { CmdletParameters, ExchangeSession, InvokeOptions } from '../../src/exchange/session.js';
import type { PlanInput, ResolvedPlaybookView, RunContext } from '../../src/actions/types.js';
import type { SourceLocation } from '../../src/errors.js';

export { mailbox, tenant } from '../support/tenant.js';

export interface CountingContext extends RunContext {
  calls: { cmdlet: string; parameters: CmdletParameters }[];
  sim: SimulatedSession;
}

/** A RunContext over an in-memory simulated tenant; every call is recorded. */
export function context(state: TenantState, extra: Partial<RunContext> = {}): CountingContext {
  const sim = SimulatedSession.fromState(state);
  const calls: { cmdlet: string; parameters: CmdletParameters }[] = [];
  const session: ExchangeSession = {
    kind: 'simulator',
    invoke: (cmdlet: string, parameters: CmdletParameters = {}, options?: InvokeOptions) => {
      calls.push({ cmdlet, parameters });
      return sim.invoke(cmdlet, parameters, options);
    },
    stream: (cmdlet: string, parameters: CmdletParameters = {}, options?: InvokeOptions) => {
      calls.push({ cmdlet, parameters });
      return sim.stream(cmdlet, parameters, options);
    },
    close: () => sim.close(),
  };
  const memo = new Map<string, Promise<unknown>>();
  return {
    session,
    calls,
    sim,
    shared<T>(key: string, read: () => Promise<T>): Promise<T> {
      if (!memo.has(key)) memo.set(key, read());
      return memo.get(key) as Promise<T>;
    },
    sleep: async () => {},
    now: () => new Date(state.clock ?? Date.now()),
    report: () => {},
    signal: new AbortController().signal,
    ...extra,
  };
}

export function playbookView(
  steps: ResolvedPlaybookView['steps'],
  extra: Partial<ResolvedPlaybookView> = {},
): ResolvedPlaybookView {
  return { name: 'test', acceptBreakage: [], steps, ...extra };
}

export function planInput<W, O>(
  stepId: string,
  withValue: W,
  observed: O,
  playbook: ResolvedPlaybookView = playbookView([{ id: stepId, uses: 'x', with: withValue }]),
  observations: ReadonlyMap<string, unknown> = new Map(),
): PlanInput<W, O> {
  return { stepId, with: withValue, observed, playbook, observations };
}

export const at = (file: string, line: number, col: number): SourceLocation => ({ file, line, col });
