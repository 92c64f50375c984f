import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeLogPath } from '../../../src/exchange/simulator/change-log.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { loadStateFile, readStateFile, writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-changelog-'));
  file = path.join(dir, 'tenant.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const onDisk = async (): Promise<TenantState> => JSON.parse(await readFile(file, 'utf8')) as TenantState;

describe('the simulated tenant change log', () => {
  it('a write appends to the log instead of rewriting the state file; closing folds it in', async () => {
    const tenant = generateTenant({ mailboxes: 2000, seed: 'log', clock: '2026-11-20T09:00:00Z' });
    await writeStateFile(file, tenant);
    const before = await stat(file);
    const session = await SimulatedSession.open(file);
    const targets = tenant.mailboxes.slice(0, 50);
    for (const m of targets) await session.invoke('Set-CASMailbox', { Identity: m.Guid, SmtpClientAuthenticationDisabled: m.SmtpClientAuthenticationDisabled === true ? null : true });
    await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: !tenant.transportConfig.SmtpClientAuthenticationDisabled });

    // 51 writes, and the 2,000-mailbox file was not rewritten once: same inode, same mtime.
    const during = await stat(file);
    expect(during.ino).toBe(before.ino);
    expect(during.mtimeMs).toBe(before.mtimeMs);
    const log = (await readFile(changeLogPath(file), 'utf8')).trim().split('\n');
    expect(log).toHaveLength(1 + 51); // header + one line a write
    // Another reader (sim show, a second process) sees every write: file + log.
    const seen = await readStateFile(file);
    expect(seen.mailboxes[0]!.SmtpClientAuthenticationDisabled).toBe(targets[0]!.SmtpClientAuthenticationDisabled === true ? null : true);
    expect(seen.transportConfig.SmtpClientAuthenticationDisabled).toBe(!tenant.transportConfig.SmtpClientAuthenticationDisabled);

    await session.close();
    expect(await readdir(dir)).toEqual(['tenant.json']);
    expect(await onDisk()).toEqual(seen);
  });

  it('folds the log into the file once it holds a tenth of the tenant (at least 1,000 changes)', async () => {
    await writeStateFile(file, generateTenant({ mailboxes: 1200, seed: 'fold', clock: '2026-11-20T09:00:00Z' }));
    const session = await SimulatedSession.open(file);
    const state = session.state;
    for (let i = 0; i < 1000; i++) {
      const m = state.mailboxes[i]!;
      await session.invoke('Set-CASMailbox', { Identity: m.Guid, SmtpClientAuthenticationDisabled: m.SmtpClientAuthenticationDisabled === false ? true : false });
    }
    // The 1,000th change folded: the file holds all of them and the log is gone, while the session is open.
    const { state: file1, replayed } = await loadStateFile(file);
    expect(replayed).toBe(0);
    expect(file1.mailboxes.slice(0, 1000).map((m) => m.SmtpClientAuthenticationDisabled)).toEqual(state.mailboxes.slice(0, 1000).map((m) => m.SmtpClientAuthenticationDisabled));
    await expect(stat(changeLogPath(file))).rejects.toThrow();
    await session.close();
  });

  it('a torn last line (a kill in the middle of an append) is the one write that did not happen', async () => {
    const tenant = generateTenant({ mailboxes: 20, seed: 'torn', clock: '2026-11-20T09:00:00Z' });
    await writeStateFile(file, tenant);
    const s = await stat(file);
    const [a, b] = tenant.mailboxes;
    await writeFile(
      changeLogPath(file),
      `${JSON.stringify({ changeLogFor: { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs } })}\n` +
        `${JSON.stringify({ mailbox: a!.Guid, at: 0, set: { SmtpClientAuthenticationDisabled: false, AuthenticationPolicy: null } })}\n` +
        `{"mailbox":"${b!.Guid}","at":1,"set":{"SmtpClientAuthen`,
    );
    const { state, replayed } = await loadStateFile(file);
    expect(replayed).toBe(1);
    expect(state.mailboxes[0]!.SmtpClientAuthenticationDisabled).toBe(false);
    expect(state.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBe(b!.SmtpClientAuthenticationDisabled);

    // Opening a session folds what a killed process left, so the file alone holds it afterwards.
    const session = await SimulatedSession.open(file);
    await session.close();
    expect((await onDisk()).mailboxes[0]!.SmtpClientAuthenticationDisabled).toBe(false);
    expect(await readdir(dir)).toEqual(['tenant.json']);
  });

  it('never applies a log to a state file it does not belong to (the file was replaced since)', async () => {
    const tenant = generateTenant({ mailboxes: 20, seed: 'stale', clock: '2026-11-20T09:00:00Z' });
    await writeStateFile(file, tenant);
    const session = await SimulatedSession.open(file);
    await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: !tenant.transportConfig.SmtpClientAuthenticationDisabled });
    // Someone replaces the file while the log exists (sim init --force, the stub module's own save).
    await writeStateFile(file, tenant);
    expect((await readStateFile(file)).transportConfig.SmtpClientAuthenticationDisabled).toBe(tenant.transportConfig.SmtpClientAuthenticationDisabled);
    await session.close();
  });
});
