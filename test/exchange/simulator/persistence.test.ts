import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { InputError } from '../../../src/errors.js';
import { smallTenant } from './tenant-fixture.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-persist-'));
  file = path.join(dir, 'tenant.json');
  await writeStateFile(file, smallTenant());
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const onDisk = async (): Promise<TenantState> => JSON.parse(await readFile(file, 'utf8')) as TenantState;

describe('state file persistence', () => {
  it('a Set writes the file: exactly the expected change, nothing else', async () => {
    const s = await SimulatedSession.open(file);
    await s.invoke('Set-CASMailbox', { Identity: 'j.doe@contoso.com', SmtpClientAuthenticationDisabled: false });
    await s.invoke('Set-CASMailbox', { Identity: 'scanner', SmtpClientAuthenticationDisabled: null });
    await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
    await s.close();
    const expected = smallTenant();
    expected.mailboxes[1]!.SmtpClientAuthenticationDisabled = false;
    expected.mailboxes[0]!.SmtpClientAuthenticationDisabled = null;
    expected.transportConfig.SmtpClientAuthenticationDisabled = true;
    expect(await onDisk()).toEqual(expected);
    // No temp files left behind by the atomic writes.
    expect(await readdir(dir)).toEqual(['tenant.json']);
  });

  it('reads and no-op Sets never rewrite the file', async () => {
    const before = await stat(file);
    const bytes = await readFile(file, 'utf8');
    const s = await SimulatedSession.open(file);
    await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
    await s.invoke('Get-TransportConfig');
    await s.invoke('Get-HistoricalSearch');
    await s.invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpClientAuthenticationDisabled: null });
    await s.close();
    const after = await stat(file);
    // An atomic rewrite replaces the inode; the same inode and bytes prove nothing was written.
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(file, 'utf8')).toBe(bytes);
  });

  it('Get-HistoricalSearch advancing a job is persisted, so the next process sees the progress', async () => {
    const first = await SimulatedSession.open(file);
    await first.invoke('Start-HistoricalSearch', {
      ReportTitle: 'audit',
      ReportType: 'SmtpCSReport',
      StartDate: '2026-11-13T09:00:00Z',
      EndDate: '2026-11-20T09:00:00Z',
    });
    await first.invoke('Get-HistoricalSearch');
    await first.close();
    expect((await onDisk()).historicalSearches[0]).toMatchObject({ Status: 'InProgress', PollsRemaining: 2 });
    const second = await SimulatedSession.open(file);
    await second.invoke('Get-HistoricalSearch');
    const last = await second.invoke('Get-HistoricalSearch');
    await second.close();
    expect(last.objects[0]).toMatchObject({ Status: 'Done', JobProgress: 100 });
    expect((await onDisk()).historicalSearches[0]).toMatchObject({ Status: 'Done', PollsRemaining: 0 });
  });

  it('sessions open on the same file share one tenant, so concurrent writers lose nothing', async () => {
    const pool = await Promise.all([SimulatedSession.open(file), SimulatedSession.open(file), SimulatedSession.open(file)]);
    await Promise.all([
      pool[0]!.invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpClientAuthenticationDisabled: true }),
      pool[1]!.invoke('Set-CASMailbox', { Identity: 'sales', SmtpClientAuthenticationDisabled: false }),
      pool[2]!.invoke('Set-CASMailbox', { Identity: 'a.smith', SmtpClientAuthenticationDisabled: null }),
    ]);
    await Promise.all(pool.map((s) => s.close()));
    const saved = await onDisk();
    expect(saved.mailboxes.map((m) => m.SmtpClientAuthenticationDisabled)).toEqual([false, true, null, false]);
  });

  it('many concurrent Sets from a pool all reach the file (queued saves are shared, none is lost)', async () => {
    await writeStateFile(file, generateTenant({ mailboxes: 120, seed: 'pool', clock: '2026-11-20T09:00:00Z' }));
    const pool = await Promise.all([SimulatedSession.open(file), SimulatedSession.open(file), SimulatedSession.open(file)]);
    const targets = pool[0]!.state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === null).slice(0, 60);
    await Promise.all(
      targets.map((m, i) => pool[i % 3]!.invoke('Set-CASMailbox', { Identity: m.PrimarySmtpAddress, SmtpClientAuthenticationDisabled: i % 2 === 0 })),
    );
    const inMemory = structuredClone(pool[0]!.state);
    await Promise.all(pool.map((s) => s.close()));
    const saved = await onDisk();
    expect(saved).toEqual(inMemory);
    const byAddress = new Map(saved.mailboxes.map((m) => [m.PrimarySmtpAddress, m.SmtpClientAuthenticationDisabled]));
    expect(targets.map((m) => byAddress.get(m.PrimarySmtpAddress))).toEqual(targets.map((_, i) => i % 2 === 0));
  });

  it('a file changed between runs is read afresh by the next open', async () => {
    const s = await SimulatedSession.open(file);
    await s.close();
    const changed = smallTenant();
    changed.transportConfig.SmtpClientAuthenticationDisabled = true;
    await writeStateFile(file, changed);
    const again = await SimulatedSession.open(file);
    expect((await again.invoke('Get-TransportConfig')).objects[0]!.SmtpClientAuthenticationDisabled).toBe(true);
    await again.close();
  });

  it('the call log records each call with secrets redacted', async () => {
    const log = path.join(dir, 'calls.jsonl');
    const s = await SimulatedSession.open(file, { callLog: log });
    await s.invoke('Connect-ExchangeOnline', { AccessToken: 'secret-token-value', Organization: 'contoso.onmicrosoft.com' });
    await s.invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpClientAuthenticationDisabled: false });
    await s.close();
    const text = await readFile(log, 'utf8');
    expect(text).not.toContain('secret-token-value');
    expect(text.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { cmdlet: 'Connect-ExchangeOnline', parameters: { AccessToken: '<redacted>', Organization: 'contoso.onmicrosoft.com' } },
      { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'j.doe', SmtpClientAuthenticationDisabled: false } },
    ]);
  });

  it('a missing or foreign file is an InputError that says how to make one', async () => {
    const missing = await SimulatedSession.open(path.join(dir, 'nope.json')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as Error).message).toContain('sim init');
    await writeFile(path.join(dir, 'other.json'), '{"hello": 1}');
    const foreign = await SimulatedSession.open(path.join(dir, 'other.json')).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(InputError);
    expect((foreign as Error).message).toContain('schemaVersion 1');
  });
});
