import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/engine/apply.js';
import { createRunContext } from '../../src/engine/context.js';
import { createEmitter } from '../../src/engine/events.js';
import { Journal, readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { buildPlan } from '../../src/engine/plan.js';
import { backoffDelay, isThrottling, type RetryPolicy } from '../../src/engine/retry.js';
import type { RunEvent } from '../../src/engine/types.js';
import { fakePlaybook, fakeSession, valuesAction, type FakeSession } from './fakes.js';

const actions = { 'fake/values': valuesAction };
const retry: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };
let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

async function run(
  session: FakeSession,
  steps: Parameters<typeof fakePlaybook>[0],
  options: { concurrency?: number; signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {},
) {
  const playbook = fakePlaybook(steps);
  const observations = new Map(steps.map((s) => [s.id, Object.fromEntries(session.store)]));
  const plan = buildPlan({ playbook, playbookRef: { name: 'fake', file: 'f', hash: 'h' }, tenant: { organization: 'o.onmicrosoft.com', target: 'sim:x' }, observations, actions, checks: [], createdAt: new Date() });
  const dir = mkdtempSync(join(tmpdir(), 'exo-apply-'));
  dirs.push(dir);
  const journal = Journal.open(join(dir, 'journal.jsonl'));
  const events: RunEvent[] = [];
  const sleeps: number[] = [];
  const ctx = createRunContext({ session, ...(options.signal ? { signal: options.signal } : {}) });
  ctx.sleep = async (ms) => void sleeps.push(ms);
  const result = await applyPlan({
    plan,
    actions,
    ctx,
    journal,
    emitter: createEmitter([{ emit: (e) => (events.push(e), options.onEvent?.(e)) }]),
    concurrency: options.concurrency ?? 1,
    retry,
    continueOnError: Object.fromEntries(steps.map((s) => [s.id, s.continueOnError ?? false])),
  });
  journal.close();
  return { ...result, records: readJournal(join(dir, 'journal.jsonl')), events, sleeps, journalText: readFileSync(join(dir, 'journal.jsonl'), 'utf8') };
}

const setCalls = (s: FakeSession) => s.calls.filter((c) => c.cmdlet === 'Set-Value');

describe('applyPlan', () => {
  it('writes only the differences, journaling one record before and one after each write', async () => {
    const session = fakeSession({ a: null, b: true, c: false });
    const { results, records } = await run(session, [{ id: 's1', values: { a: false, b: true, c: null } }]);
    expect(setCalls(session).map((c) => c.parameters)).toEqual([{ Identity: 'a', Value: false }, { Identity: 'c', Value: null }]);
    expect(results.map((r) => [r.target, r.status])).toEqual([['a', 'applied'], ['c', 'applied']]);
    expect(records.map((r) => r.type)).toEqual(['before', 'after', 'before', 'after']);
    const before = records[2] as Extract<JournalRecord, { type: 'before' }>;
    expect(before).toMatchObject({ target: 'c', before: false, after: null, cmdlet: 'Set-Value', undo: { cmdlet: 'Set-Value', parameters: { Identity: 'c', Value: false } } });
    expect(session.store.get('c')).toBeNull();
  });

  it('retries throttling with backoff and succeeds; the retries are events', async () => {
    const session = fakeSession({ a: null });
    session.failNext('a', 2, 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again');
    const { results, sleeps, events } = await run(session, [{ id: 's1', values: { a: false } }]);
    expect(results[0]).toMatchObject({ status: 'applied', attempts: 3 });
    expect(sleeps).toEqual([50, 100]); // full jitter at random()=0.5 of 100, 200
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });

  it('does not retry a real error, and a failure does not stop the step\'s other changes', async () => {
    const session = fakeSession({ a: null, b: null, c: null });
    session.failNext('b', 5, "The operation couldn't be performed because object 'b' couldn't be found");
    const { results, records } = await run(session, [{ id: 's1', values: { a: false, b: false, c: false } }]);
    expect(results.map((r) => [r.target, r.status, r.attempts])).toEqual([['a', 'applied', 1], ['b', 'failed', 1], ['c', 'applied', 1]]);
    expect(results[1]!.error).toMatch(/couldn't be found/);
    expect(records.filter((r) => r.type === 'after').map((r) => (r as { outcome: string }).outcome)).toEqual(['applied', 'failed', 'applied']);
  });

  it('a write whose reply was lost in transit (a timeout) is never journaled failed: it is read back, here unknown', async () => {
    const session = fakeSession({ a: null, b: null });
    // Set-Value has no Get counterpart the engine knows, so the read-back cannot tell.
    session.failNext('a', 5, 'The operation has timed out.');
    const { results, records } = await run(session, [{ id: 's1', values: { a: false, b: false } }]);
    expect(results.map((r) => [r.target, r.status])).toEqual([['a', 'failed'], ['b', 'applied']]);
    expect(results[0]!.error).toMatch(/timed out.*outcome unknown: Set-Value cannot be read back \(rollback re-reads it\)/);
    const afters = records.filter((r): r is Extract<JournalRecord, { type: 'after' }> => r.type === 'after');
    expect(afters.map((r) => r.outcome)).toEqual(['unknown', 'applied']);
    expect(afters[0]!.readBack).toEqual({ verdict: 'unknown', error: 'Set-Value cannot be read back' });
  });

  it('a step with a failure stops later steps unless it says continueOnError', async () => {
    const session = fakeSession({ a: null, b: null });
    session.failNext('a', 1, 'boom');
    const stopped = await run(session, [{ id: 's1', values: { a: false } }, { id: 's2', values: { b: false } }]);
    expect(stopped.results.map((r) => [r.target, r.status])).toEqual([['a', 'failed'], ['b', 'skipped']]);
    expect(stopped.results[1]!.error).toMatch(/step "s1" had 1 failed change/);

    const session2 = fakeSession({ a: null, b: null });
    session2.failNext('a', 1, 'boom');
    const goesOn = await run(session2, [{ id: 's1', values: { a: false }, continueOnError: true }, { id: 's2', values: { b: false } }]);
    expect(goesOn.results.map((r) => [r.target, r.status])).toEqual([['a', 'failed'], ['b', 'applied']]);
  });

  it('keeps at most --concurrency writes in flight', async () => {
    const values = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`m${i}`, false]));
    const session = fakeSession(Object.fromEntries(Object.keys(values).map((k) => [k, null])), 15);
    const { results } = await run(session, [{ id: 's1', values }], { concurrency: 3 });
    expect(results.every((r) => r.status === 'applied')).toBe(true);
    expect(session.maxInFlight).toBe(3);

    const serial = fakeSession(Object.fromEntries(Object.keys(values).map((k) => [k, null])), 5);
    await run(serial, [{ id: 's1', values }]);
    expect(serial.maxInFlight).toBe(1);
  });

  it('on interrupt finishes the write in flight, starts no new one, and reports skipped', async () => {
    const session = fakeSession({ a: null, b: null, c: null }, 10);
    const controller = new AbortController();
    const { results, interrupted, records } = await run(session, [{ id: 's1', values: { a: false, b: false, c: false } }], {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'change-start') controller.abort(); // Ctrl-C during the first write
      },
    });
    expect(interrupted).toBe(true);
    expect(results.map((r) => r.status)).toEqual(['applied', 'skipped', 'skipped']);
    expect(records.map((r) => r.type)).toEqual(['before', 'after']);
    expect(session.store.get('b')).toBeNull();
  });
});

describe('retry classification', () => {
  it.each([
    ['HTTP 429 Too Many Requests', true],
    ['The remote server returned an error: (503) Server Unavailable.', true],
    ['Server Busy', true],
    ['You have reached the maximum number of concurrent requests per tenant. Please wait and try again', true],
    ['(504) Gateway Timeout', true],
    ["object 'x' couldn't be found", false],
    ['Access denied', false],
  ])('%s → %s', (message, expected) => {
    expect(isThrottling(new Error(message))).toBe(expected);
  });

  it('backs off exponentially with a cap', () => {
    const p = { ...retry, random: () => 1 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, p))).toEqual([100, 200, 400, 800, 1000]);
  });
});
