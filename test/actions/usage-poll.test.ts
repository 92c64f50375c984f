/**
 * How the usage step waits for a submitted historical search: the first wait is the playbook's
 * pollSeconds, each later one doubles, none is longer than 10 minutes.
 */
import { describe, expect, it } from 'vitest';
import { usageAction } from '../../src/actions/smtp-auth/usage/index.js';
import { usageWith } from '../../src/playbook/schema.js';
import { context, mailbox, planInput, tenant } from './builders.js';

/** Applies the planned search on a tenant whose job takes `polls` reads to finish; returns the waits asked for. */
async function waitsFor(withValue: Record<string, unknown>, polls: number): Promise<{ sleeps: number[]; status: unknown }> {
  const sleeps: number[] = [];
  const ctx = context(tenant([mailbox('a')], { historicalSearchPolls: polls }), {
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  });
  const parsed = usageWith.parse(withValue);
  const observed = await usageAction.observe(parsed, ctx, 'usage');
  const change = usageAction.plan(planInput('usage', parsed, observed)).changes[0]!;
  const { result } = await usageAction.apply!(change, ctx);
  return { sleeps, status: (result as { Status: unknown }).Status };
}

describe('smtp-auth/usage polling', () => {
  it('waits pollSeconds first, then doubles', async () => {
    const { sleeps, status } = await waitsFor({ pollSeconds: 1 }, 4);
    expect(status).toBe('Done');
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
  });

  it('never waits longer than 10 minutes between polls', async () => {
    const { sleeps } = await waitsFor({ pollSeconds: 200 }, 4);
    expect(sleeps).toEqual([200_000, 400_000, 600_000, 600_000]);
  });

  it('waits 30 seconds first when the playbook does not say', async () => {
    const { sleeps } = await waitsFor({}, 2);
    expect(sleeps).toEqual([30_000, 60_000]);
  });

  it('a search still running at timeoutMinutes fails its change (so later steps never switch SMTP AUTH off before it finished)', async () => {
    await expect(waitsFor({ pollSeconds: 600, timeoutMinutes: 5 }, 50)).rejects.toThrow(/still (NotStarted|InProgress) after 5 minute\(s\): later steps do not start/);
  });

  it('refuses a pollSeconds outside 1..600 when the playbook is validated', () => {
    expect(usageWith.safeParse({ pollSeconds: 0 }).success).toBe(false);
    expect(usageWith.safeParse({ pollSeconds: 601 }).success).toBe(false);
    expect(usageWith.safeParse({ pollSeconds: 1.5 }).success).toBe(false);
  });
});
