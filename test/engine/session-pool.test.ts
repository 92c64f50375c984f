/**
 * The write pool behind `--concurrency N`: at most N writes in flight, never two on one session,
 * apply's extra sessions signed in before the first write (they open while the observe phase reads),
 * nothing extra with --concurrency 1, and every session closed whatever happens (a failed change, a
 * failure after the writes, Ctrl-C, a refused sign-in, a run that writes nothing); closing kills a
 * sign-in still in progress instead of waiting for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineDeps } from '../../src/engine/deps.js';
import { runApply } from '../../src/engine/run-apply.js';
import { runRollback } from '../../src/engine/run-rollback.js';
import { createSessionPool } from '../../src/engine/session-pool.js';
import { until } from '../support/wait.js';
import type { ExchangeSession } from '../../src/exchange/session.js';
import type { PsValue } from '../../src/exchange/session.js';
import type { EventSink, RunEvent } from '../../src/engine/types.js';
import { RefusedError } from '../../src/errors.js';
import { fakeApplyOptions, fakePlaybook, fakeSession, type FakeSession } from './fakes.js';

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

interface TrackedSession extends FakeSession {
  closes: number;
  writes: number;
}

/** A tenant every opened session shares (like one Exchange org), with global in-flight accounting. */
function fakeTenant(initial: Record<string, PsValue>, options: { delayMs?: number; refuseAfter?: number; hangAfter?: number } = {}) {
  const store = new Map(Object.entries(initial));
  const sessions: TrackedSession[] = [];
  const tenant = { store, sessions, inFlight: 0, maxInFlight: 0, opens: 0, abandoned: 0 };
  const openTarget: EngineDeps['openTarget'] = async (_target, _tenant, openOptions): Promise<ExchangeSession> => {
    tenant.opens += 1;
    if (options.refuseAfter !== undefined && tenant.opens > options.refuseAfter) throw new Error('AADSTS50126: sign-in refused');
    if (options.hangAfter !== undefined && tenant.opens > options.hangAfter) {
      // A sign-in that never finishes: only abandoning it (the pool closing) ends it, as a killed host would.
      await new Promise((_resolve, reject) => {
        if (!openOptions.signal) return;
        openOptions.signal.addEventListener('abort', () => {
          tenant.abandoned += 1;
          reject(new Error('PowerShell was stopped while signing in'));
        });
      });
    }
    const session = fakeSession({}, options.delayMs ?? 0) as TrackedSession;
    session.store = store;
    session.closes = 0;
    session.writes = 0;
    const invoke = session.invoke.bind(session);
    session.invoke = async (cmdlet, parameters) => {
      if (cmdlet.startsWith('Set-')) session.writes += 1;
      tenant.inFlight += 1;
      tenant.maxInFlight = Math.max(tenant.maxInFlight, tenant.inFlight);
      try {
        return await invoke(cmdlet, parameters);
      } finally {
        tenant.inFlight -= 1;
      }
    };
    session.close = async () => {
      session.closes += 1;
    };
    sessions.push(session);
    return session;
  };
  return { tenant, openTarget };
}

function setup(openTarget: EngineDeps['openTarget'], steps: Parameters<typeof fakePlaybook>[0], concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'exo-pool-'));
  dirs.push(dir);
  const events: RunEvent[] = [];
  const options = {
    ...fakeApplyOptions(dir, openTarget, steps, concurrency),
    sinks: [{ emit: (e: RunEvent) => void events.push(e) }] as EventSink[],
  };
  return { options, events };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `m${i + 1}`);
const allNull = (n: number) => Object.fromEntries(keys(n).map((k) => [k, null]));
const allFalse = (n: number) => Object.fromEntries(keys(n).map((k) => [k, false]));

describe('apply --concurrency with a session pool', () => {
  it('3 writers on 3 sessions: never more than 3 writes in flight, never 2 on one session, every session closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(12), { delayMs: 15 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(12) }], 3);
    const report = await runApply(options);

    expect(report.summary).toEqual({ applied: 12, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(report.writeCalls).toBe(12);
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.maxInFlight).toBe(3);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    // The work really was spread: every session wrote.
    expect(tenant.sessions.map((s) => s.writes > 0)).toEqual([true, true, true]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
    expect([...tenant.store.values()].every((v) => v === false)).toBe(true);
  });

  it('--concurrency 3 signs the extra sessions in before the first write: they open while the reads run', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options, events } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const report = await runApply(options);
    expect(report.summary.applied).toBe(6);
    expect(tenant.opens).toBe(3);
    const at = (predicate: (e: RunEvent) => boolean) => events.findIndex(predicate);
    const firstRead = at((e) => e.type === 'observe');
    const firstWrite = at((e) => e.type === 'change-start');
    for (const slot of [2, 3]) {
      expect(at((e) => e.message === `opening session ${slot} of 3 for parallel writes`)).toBeLessThan(firstRead);
      const signedIn = at((e) => e.message === `session ${slot} of 3 signed in for parallel writes`);
      expect(signedIn).toBeGreaterThan(-1);
      expect(signedIn).toBeLessThan(firstWrite);
    }
    expect(tenant.sessions.map((s) => s.writes > 0)).toEqual([true, true, true]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('--concurrency 1 opens no extra session', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options, events } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 1);
    const report = await runApply(options);
    expect(report.summary.applied).toBe(6);
    expect(tenant.opens).toBe(1);
    expect(events.filter((e) => /parallel writes/.test(e.message))).toEqual([]);
  });

  it('a run with nothing to write closes the extra sessions it opened, unused', async () => {
    const { tenant, openTarget } = fakeTenant(allFalse(4), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(4) }], 3);
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 0, failed: 0, skipped: 0 });
    expect(report.writeCalls).toBe(0);
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.writes)).toEqual([0, 0, 0]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('a declined plan writes nothing and closes every session, the extras included', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(4), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(4) }], 3);
    const declined = runApply({ ...options, yes: false, confirm: async () => false });
    await expect(declined).rejects.toBeInstanceOf(RefusedError);
    await expect(declined).rejects.toThrow('not confirmed; nothing was written');
    expect([...tenant.store.values()].every((v) => v === null)).toBe(true);
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.writes)).toEqual([0, 0, 0]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('an extra session still signing in when the run ends is abandoned, not waited for, and not reported as a failure', async () => {
    // Session 3's sign-in never finishes on its own: the run would hang if the pool waited for it.
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5, hangAfter: 2 });
    const { options, events } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(tenant.opens).toBe(3);
    expect(tenant.abandoned).toBe(1);
    expect(tenant.sessions).toHaveLength(2);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
  });

  it('a refused plan (blocked by a guard) abandons a sign-in in progress and closes the rest', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(4), { delayMs: 5, hangAfter: 2 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(4) }], 3);
    // No --yes and no terminal to ask: the guard refuses before any write.
    await expect(runApply({ ...options, yes: false })).rejects.toThrow('no terminal to confirm the plan');
    expect(tenant.abandoned).toBe(1);
    expect(tenant.sessions.map((s) => s.writes)).toEqual([0, 0]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('a failed change fails only itself; every session is still closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    // The failure is armed on whichever session writes m2: arm it on every one.
    const open = options.deps.openTarget;
    options.deps.openTarget = async (...args) => {
      const s = (await open(...args)) as FakeSession;
      s.failNext('m2', 1, 'Access denied');
      return s;
    };
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 5, failed: 1, skipped: 0 });
    expect(report.results.find((r) => r.status === 'failed')?.target).toBe('m2');
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('a failure after the writes (verify cannot read) still closes every session', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    let reads = 0;
    const open = options.deps.openTarget;
    options.deps.openTarget = async (...args) => {
      const s = await open(...args);
      const invoke = s.invoke.bind(s);
      s.invoke = async (cmdlet, parameters) => {
        if (cmdlet === 'Get-All' && ++reads > 1) throw new Error('connection reset');
        return invoke(cmdlet, parameters);
      };
      return s;
    };
    await expect(runApply(options)).rejects.toThrow('connection reset');
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('Ctrl-C: writes in flight finish, no new ones start, every session is closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(12), { delayMs: 20 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(12) }], 3);
    const controller = new AbortController();
    let started = 0;
    options.sinks.push({
      emit: (e: RunEvent) => {
        if (e.type === 'change-start' && ++started === 3) controller.abort();
      },
    });
    const report = await runApply({ ...options, signal: controller.signal });
    expect(report.interrupted).toBe(true);
    expect(report.summary).toEqual({ applied: 3, failed: 0, skipped: 9 });
    expect([...tenant.store.values()].filter((v) => v === false)).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('a refused sign-in for an extra session is a warning: the writes go on with the sessions there are', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5, refuseAfter: 2 });
    const { options, events } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(tenant.sessions).toHaveLength(2);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message);
    expect(warnings).toEqual([expect.stringMatching(/could not open session 3 of 3 for parallel writes \(AADSTS50126: sign-in refused\); the writes go on over the other sessions/)]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('a slow sign-in does not hold the writes up: they start on the run\'s session, the late session is still closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 2);
    let opens = 0;
    let writesWhenSignedIn = -1;
    options.deps.openTarget = async (...args) => {
      if (++opens === 2) {
        // Signs in once the run's own session has done every write, or gives up waiting: a pool that
        // held the writes for this sign-in would leave them undone then (and the test says so).
        await until(() => tenant.sessions[0]!.writes === 6, 'the six writes on the run\'s own session while the second signs in', 60_000).catch(() => undefined);
        writesWhenSignedIn = tenant.sessions[0]!.writes;
      }
      return openTarget(...args);
    };
    const report = await runApply(options);
    expect(report.summary.applied).toBe(6);
    // Every write was done on the run's own session before the second one finished signing in.
    expect(writesWhenSignedIn).toBe(6);
    expect(tenant.sessions).toHaveLength(2);
    expect(tenant.sessions[1]!.writes).toBe(0);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('rollback writes through the pool too and restores every value', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const applied = await runApply(options);
    const back = await runRollback({ ...options, runDir: applied.runDir, targetGiven: true });
    expect(back.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(back.verify?.compliant).toBe(true);
    expect(back.writeCalls).toBe(6);
    expect([...tenant.store.values()].every((v) => v === null)).toBe(true);
    expect(tenant.sessions).toHaveLength(6);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    expect(tenant.sessions.every((s) => s.closes === 1)).toBe(true);
  });
});

describe('createSessionPool', () => {
  const primary = fakeSession({});
  const settle = (slots: readonly Promise<ExchangeSession | undefined>[]) => Promise.all(slots);

  it('never hands out more than the maximum, nor more than 3; asking again reuses the slots', async () => {
    let opened = 0;
    const pool = createSessionPool({ primary, max: 5, openExtra: async () => (opened++, fakeSession({})) });
    const three = await settle(pool.slots(10));
    expect(three).toHaveLength(3);
    expect(three[0]).toBe(primary);
    expect(new Set(three).size).toBe(3);
    expect(await settle(pool.slots(2))).toEqual(three.slice(0, 2));
    expect(opened).toBe(2);
    await pool.close();
  });

  it('without openAll(), opens only as many sessions as asked for, and keeps them for the next ask', async () => {
    let opened = 0;
    const pool = createSessionPool({ primary, max: 3, openExtra: async () => (opened++, fakeSession({})) });
    const two = await settle(pool.slots(2));
    expect(two).toHaveLength(2);
    expect(opened).toBe(1);
    const three = await settle(pool.slots(3));
    expect(three.slice(0, 2)).toEqual(two);
    expect(opened).toBe(2);
    await pool.close();
  });

  it('openAll() starts every extra sign-in at once; slots() then hands out those same sessions', async () => {
    const events: string[] = [];
    let opened = 0;
    const pool = createSessionPool({
      primary,
      max: 3,
      onOpening: (slot, of) => events.push(`opening ${slot}/${of}`),
      onOpened: (slot, of) => events.push(`opened ${slot}/${of}`),
      openExtra: async () => (opened++, fakeSession({})),
    });
    pool.openAll();
    expect(opened).toBe(2);
    const slots = await settle(pool.slots(3));
    expect(new Set(slots).size).toBe(3);
    expect(opened).toBe(2);
    expect(events).toEqual(['opening 2/3', 'opening 3/3', 'opened 2/3', 'opened 3/3']);
    await pool.close();
  });

  it('with a maximum of 1, openAll() opens nothing', async () => {
    let opened = 0;
    const pool = createSessionPool({ primary, max: 1, openExtra: async () => (opened++, fakeSession({})) });
    pool.openAll();
    expect(await settle(pool.slots(3))).toEqual([primary]);
    expect(opened).toBe(0);
    await pool.close();
  });

  it('close() abandons a sign-in in progress instead of waiting for it, closes the signed-in ones, and warns of nothing', async () => {
    const warnings: string[] = [];
    const ready = fakeSession({});
    let readyClosed = 0;
    ready.close = async () => {
      readyClosed += 1;
    };
    const signals: AbortSignal[] = [];
    let calls = 0;
    const pool = createSessionPool({
      primary,
      max: 3,
      onWarning: (m) => warnings.push(m),
      openExtra: (signal) => {
        signals.push(signal);
        // The first extra signs in at once; the second never does unless abandoned (a killed host).
        if (++calls === 1) return Promise.resolve(ready);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('PowerShell was stopped while signing in'))));
      },
    });
    pool.openAll();
    const slots = pool.slots(3);
    await slots[1];
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    await pool.close();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(await settle(slots)).toEqual([primary, ready, undefined]);
    expect(readyClosed).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('opens nothing after Ctrl-C, and a session that finishes signing in after close() is closed at once', async () => {
    const aborted = new AbortController();
    aborted.abort();
    let opened = 0;
    const none = createSessionPool({ primary, max: 3, signal: aborted.signal, openExtra: async () => (opened++, fakeSession({})) });
    expect(await settle(none.slots(3))).toEqual([primary]);
    expect(opened).toBe(0);

    let release!: () => void;
    const late = fakeSession({});
    let lateClosed = 0;
    late.close = async () => {
      lateClosed += 1;
    };
    const pool = createSessionPool({ primary, max: 2, openExtra: () => new Promise((r) => (release = () => r(late))) });
    const asked = pool.slots(2);
    const closing = pool.close();
    release();
    await closing;
    expect(await settle(asked)).toEqual([primary, undefined]);
    expect(lateClosed).toBe(1);
  });

  it('a failed sign-in resolves its slot to nothing, warns once, and no further session is tried', async () => {
    const warnings: string[] = [];
    let tries = 0;
    const pool = createSessionPool({
      primary,
      max: 3,
      onWarning: (m) => warnings.push(m),
      openExtra: async () => {
        tries += 1;
        throw new Error('sign-in refused');
      },
    });
    expect(await settle(pool.slots(2))).toEqual([primary, undefined]);
    expect(await settle(pool.slots(3))).toEqual([primary, undefined]);
    expect(tries).toBe(1);
    expect(warnings).toEqual(['could not open session 2 of 2 for parallel writes (sign-in refused); the writes go on over the other sessions']);
    await pool.close();
  });
});
