/**
 * Builders for engine unit tests: an in-memory session that records calls and can fail on cue, and a
 * fake action over a plain key → value store (so the engine is tested without the real actions).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { EngineDeps } from '../../src/engine/deps.js';
import type { ActionDefinition, Change, StepPlan } from '../../src/actions/types.js';
import { CmdletFailure, type CmdletParameters, type ExchangeSession, type InvokeResult, type PsObject, type PsValue } from '../../src/exchange/session.js';
import type { Playbook } from '../../src/playbook/schema.js';

export interface FakeSession extends ExchangeSession {
  calls: { cmdlet: string; parameters: CmdletParameters }[];
  store: Map<string, PsValue>;
  /** Fail the next N calls of a target with this message. */
  failNext(target: string, times: number, message: string): void;
  inFlight: number;
  maxInFlight: number;
}

/** Keys named sticky* accept writes but never change (a tenant that drifts back). */
export function fakeSession(initial: Record<string, PsValue>, delayMs = 0): FakeSession {
  const failures = new Map<string, { times: number; message: string }>();
  const session: FakeSession = {
    kind: 'simulator',
    calls: [],
    store: new Map(Object.entries(initial)),
    inFlight: 0,
    maxInFlight: 0,
    failNext(target, times, message) {
      failures.set(target, { times, message });
    },
    async invoke(cmdlet, parameters = {}): Promise<InvokeResult> {
      session.calls.push({ cmdlet, parameters });
      session.inFlight += 1;
      session.maxInFlight = Math.max(session.maxInFlight, session.inFlight);
      try {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        const target = String(parameters.Identity ?? '');
        const failure = failures.get(target);
        if (failure && failure.times > 0 && cmdlet.startsWith('Set-')) {
          failure.times -= 1;
          throw new CmdletFailure(cmdlet, { exceptionType: 'System.Exception', fullyQualifiedErrorId: 'X', message: failure.message });
        }
        if (cmdlet === 'Set-Value' && !target.startsWith('sticky')) session.store.set(target, parameters.Value ?? null);
        if (cmdlet === 'Get-Value') return { objects: [{ Identity: target, Value: session.store.get(target) ?? null }], warnings: [], errors: [] };
        if (cmdlet === 'Get-All') return { objects: [...session.store].map(([k, v]) => ({ Identity: k, Value: v }) as PsObject), warnings: [], errors: [] };
        return { objects: [], warnings: [], errors: [] };
      } finally {
        session.inFlight -= 1;
      }
    },
    async *stream(cmdlet, parameters) {
      yield* (await session.invoke(cmdlet, parameters)).objects;
    },
    async close() {},
  };
  return session;
}

const valuesWith = z.object({ values: z.record(z.string(), z.union([z.boolean(), z.null()])) });
type ValuesWith = z.infer<typeof valuesWith>;

function valueChange(stepId: string, key: string, before: PsValue, after: PsValue, reason: string): Change {
  return {
    id: `${stepId}:${key}:Value`,
    stepId,
    target: key,
    property: 'Value',
    before,
    after,
    reason,
    call: { cmdlet: 'Set-Value', parameters: { Identity: key, Value: after } },
    undo: { cmdlet: 'Set-Value', parameters: { Identity: key, Value: before } },
  };
}

/** "fake/values": desired key → value; observe reads everything once per run through ctx.shared. */
export const valuesAction: ActionDefinition<ValuesWith, Record<string, PsValue>> = {
  uses: 'fake/values',
  summary: 'test action',
  withSchema: valuesWith,
  async observe(_with, ctx) {
    const all = await ctx.shared('all', async () => (await ctx.session.invoke('Get-All')).objects);
    return Object.fromEntries(all.map((o) => [String(o.Identity), o.Value ?? null]));
  },
  plan({ stepId, with: w, observed }): StepPlan {
    const plan: StepPlan = { stepId, uses: 'fake/values', changes: [], inDesiredState: [], notes: [], risks: [] };
    for (const [key, after] of Object.entries(w.values)) {
      const before = observed[key] ?? null;
      if (before === after) {
        plan.inDesiredState.push(`${key} is already ${String(after)}`);
        continue;
      }
      plan.changes.push(valueChange(stepId, key, before, after, `want ${String(after)}`));
    }
    return plan;
  },
  // Rollback derives the inverse through the same builder, from the journal's values.
  invert: (write) => (write.property === 'Value' ? { ...valueChange(write.stepId, write.target, write.after, write.before, 'restore'), id: write.changeId } : null),
  verify({ stepId, with: w, observed }) {
    return Object.entries(w.values).map(([key, want]) => ({
      stepId,
      check: 'value',
      status: (observed[key] ?? null) === want ? ('pass' as const) : ('fail' as const),
      subject: key,
      message: `is ${String(observed[key])}`,
    }));
  },
};

export function fakePlaybook(steps: { id: string; values: Record<string, boolean | null>; continueOnError?: boolean }[]): Playbook {
  return {
    apiVersion: 'exo-playbook/v1',
    name: 'fake',
    change: 'CHG1',
    tenant: { organization: 'contoso.onmicrosoft.com', auth: { method: 'azure-cli' } },
    vars: {},
    acceptBreakage: [],
    steps: steps.map((s) => ({ id: s.id, uses: 'fake/values', with: { values: s.values }, continueOnError: s.continueOnError ?? false })),
  } as unknown as Playbook;
}

/** runApply options for a fake playbook against `openTarget`, with the lock folder and runs dir inside `dir`. */
export function fakeApplyOptions(dir: string, openTarget: EngineDeps['openTarget'], steps: Parameters<typeof fakePlaybook>[0], concurrency = 1) {
  const deps: EngineDeps = {
    loadPlaybook: async (file) => ({ file, baseDir: dir, hash: 'h1', playbook: fakePlaybook(steps) }),
    openTarget,
    actions: { 'fake/values': valuesAction },
    planChecks: [],
  };
  return {
    deps,
    playbookFile: join(dir, 'p.yaml'),
    target: `sim:${join(dir, 't.json')}`,
    env: { EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks') },
    cwd: dir,
    runsDir: join(dir, 'runs'),
    yes: true,
    concurrency,
  };
}
