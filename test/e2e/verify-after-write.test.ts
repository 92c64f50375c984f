/**
 * The verify that ends an apply reads again only what the writes could have changed: nothing when
 * nothing was written, each written mailbox by itself, the organization switch when it was written,
 * and everything when a write it does not understand happened (verify-after-write.ts).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { assertBuilt, EngineWorkspace, sim } from './engine-support.js';

const workspaces: EngineWorkspace[] = [];
afterEach(() => {
  for (const w of workspaces.splice(0)) w.cleanup();
});
beforeAll(assertBuilt);

function ws(): EngineWorkspace {
  const w = new EngineWorkspace();
  workspaces.push(w);
  return w;
}

const reads = (w: EngineWorkspace, cmdlet: string) => w.calls().filter((c) => c.cmdlet === cmdlet);

describe('verify after apply', () => {
  it('reads each written mailbox by itself and the organization switch again, never the whole tenant twice', () => {
    const w = ws();
    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('COMPLIANT');
    const calls = w.calls();
    const writes = calls.filter((c) => c.cmdlet === 'Set-CASMailbox').map((c) => c.parameters.Identity);
    expect(writes.length).toBeGreaterThan(1);
    // One bulk read (observe); after the writes, one single read per written mailbox, by the identity the write used.
    expect(reads(w, 'Get-EXOCASMailbox').filter((c) => c.parameters.ResultSize === 'Unlimited')).toHaveLength(1);
    const singles = reads(w, 'Get-EXOCASMailbox').filter((c) => c.parameters.Identity !== undefined);
    expect(singles.map((c) => c.parameters.Identity).sort()).toEqual([...writes].sort());
    const lastWrite = calls.map((c) => c.cmdlet).lastIndexOf('Set-CASMailbox');
    expect(calls.slice(lastWrite).some((c) => c.cmdlet === 'Get-TransportConfig')).toBe(true);
  });

  it('reads nothing again when nothing was written', () => {
    const w = ws();
    expect(w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']).code).toBe(0);
    w.clearCalls();
    const again = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('COMPLIANT');
    expect(reads(w, 'Get-EXOCASMailbox')).toHaveLength(1);
    expect(reads(w, 'Get-TransportConfig')).toHaveLength(1);
  });

  it('still finds drift the writes left: a mailbox it wrote that did not end as planned', () => {
    // The escape hatch writes after the allowlist: verify must see the mailbox it put back to $false.
    const w = ws();
    const text = readFileSync(w.playbook, 'utf8');
    const at = text.indexOf('  - id: verify');
    expect(at).toBeGreaterThan(0);
    const step = [
      '  - id: undo-one',
      '    uses: powershell',
      '    with:',
      '      cmdlet: Set-CASMailbox',
      '      parameters: { Identity: stray01@contoso.com, SmtpClientAuthenticationDisabled: false }',
      '      allowWrite: true',
      '',
    ].join('\n');
    writeFileSync(w.playbook, text.slice(0, at) + step + text.slice(at));
    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    // The escape hatch's Set-CASMailbox is planned as the typed mailbox change (from the $null the
    // allowlist leaves, written by the mailbox's Guid): stray01 is read again by itself, by that id,
    // found at $false, and reported as drift (exit 2).
    expect(apply.code, apply.stderr).toBe(2);
    expect(apply.stdout).toMatch(/stray01@contoso\.com/);
    expect(reads(w, 'Get-EXOCASMailbox').filter((c) => c.parameters.ResultSize === 'Unlimited')).toHaveLength(1);
    const last = w.calls().filter((c) => c.cmdlet === 'Set-CASMailbox').at(-1)!;
    expect(last.parameters.SmtpClientAuthenticationDisabled).toBe(false);
    expect(reads(w, 'Get-EXOCASMailbox').filter((c) => c.parameters.Identity === last.parameters.Identity).length).toBeGreaterThanOrEqual(1);
  });
});
