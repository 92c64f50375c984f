/**
 * Every legal address is accepted (RFC 5322 atext in the local part, internationalised local parts
 * and domains, aliases and UPNs, any case) and resolved to its mailbox by the allowlist, on the
 * simulator and through real pwsh + the stub module; only what cannot be an address is refused, at
 * its line:col. Hostile-looking but legal characters (' ` $ { }) stay data: the bridge binds them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { SimMailbox, TenantState } from '../../src/exchange/simulator/state.js';
import { loadPlaybookFromText, PlaybookInvalid } from '../../src/playbook/load.js';
import { mailbox, tenant } from '../support/tenant.js';
import { assertBuilt, CLI, EngineWorkspace, ROOT } from './engine-support.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

/** Legal forms: [as written in the allowlist, the mailbox's primary address]. */
const LEGAL: [string, string][] = [
  ["o'brien@contoso.com", "o'brien@contoso.com"],
  ['first.last@contoso.com', 'first.last@contoso.com'],
  ['first.last+tag@contoso.com', 'first.last+tag@contoso.com'],
  ['user-name@contoso.com', 'user-name@contoso.com'],
  ['user_name@contoso.com', 'user_name@contoso.com'],
  ['1234567@contoso.com', '1234567@contoso.com'],
  ['a@contoso.com', 'a@contoso.com'],
  ['bang!hash#@contoso.com', 'bang!hash#@contoso.com'],
  ['dollar$percent%amp&@contoso.com', 'dollar$percent%amp&@contoso.com'],
  ['star*slash/equals=@contoso.com', 'star*slash/equals=@contoso.com'],
  ['query?caret^tick`@contoso.com', 'query?caret^tick`@contoso.com'],
  ['brace{pipe|}tilde~@contoso.com', 'brace{pipe|}tilde~@contoso.com'],
  ['MixedCase.User@CONTOSO.com', 'mixedcase.user@contoso.com'],
  ['josé.garcía@contoso.com', 'josé.garcía@contoso.com'],
  ['ØYVIND@contoso.com', 'øyvind@contoso.com'],
  ['用户@例子.广告', '用户@例子.广告'],
  ['δοκιμή@παράδειγμα.δοκιμή', 'δοκιμή@παράδειγμα.δοκιμή'],
  ['info@bücher.de', 'info@bücher.de'],
  ['sales@xn--bcher-kva.de', 'sales@xn--bcher-kva.de'],
  ['deep@mail.sub.contoso.co.uk', 'deep@mail.sub.contoso.co.uk'],
  ['ops@contoso-mail.com', 'ops@contoso-mail.com'],
  ['x@123contoso.io', 'x@123contoso.io'],
  ['-dash-first@contoso.com', '-dash-first@contoso.com'],
  ['plus+@contoso.com', 'plus+@contoso.com'],
  ['a.b.c.d@contoso.com', 'a.b.c.d@contoso.com'],
  [`${'l'.repeat(64)}@contoso.com`, `${'l'.repeat(64)}@contoso.com`],
  // A UPN (onmicrosoft) and an alias name the mailbox they belong to.
  ['scanner@contoso.onmicrosoft.com', 'scanner@contoso.com'],
  ['printer', 'printer@contoso.com'],
];

/** Impossible forms and why, each refused at its line in the allowlist file. */
const IMPOSSIBLE: [string, RegExp][] = [
  ['a..b@contoso.com', /two dots in a row/],
  ['.lead@contoso.com', /starts or ends with a dot/],
  ['trail.@contoso.com', /starts or ends with a dot/],
  ['a@b@contoso.com', /more than one @/],
  ['@contoso.com', /nothing before the @/],
  ['user@', /nothing after the @/],
  ['a,b@contoso.com', /with `,`/],
  ['a"b@contoso.com', /with `"`/],
  ['(comment)a@contoso.com', /with `\(`/],
  ['$(Get-Secret)@contoso.com', /with `\(`/],
  ['a;b@contoso.com', /with `;`/],
  ['user@contoso', /invalid domain/],
  ['user@-contoso.com', /invalid domain/],
  ['user@contoso..com', /invalid domain/],
  ['user@1.2.3.4', /invalid domain/],
  ['user@[10.0.0.1]', /IP-literal/],
  [`${'l'.repeat(65)}@contoso.com`, /longer than 64 bytes/],
  ['zero\u200bwidth@contoso.com', /invisible formatting character/],
  ['lone\uD800@contoso.com', /lone UTF-16 surrogate/],
  ['under_score@con_toso.com', /invalid domain/],
];

function mailboxFor(primary: string, index: number): SimMailbox {
  const local = primary.slice(0, primary.lastIndexOf('@'));
  const base = mailbox(`m${index}`, true);
  return {
    ...base,
    Guid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    Name: `m${index}`,
    Alias: local,
    PrimarySmtpAddress: primary,
    UserPrincipalName: `m${index}@contoso.onmicrosoft.com`,
    EmailAddresses: [`SMTP:${primary}`],
  };
}

/** A tenant with one mailbox per distinct primary address (printer, scanner: the fixture shape). */
function addressTenant(): TenantState {
  const primaries = [...new Set(LEGAL.map(([, primary]) => primary))].filter((p) => !['scanner@contoso.com', 'printer@contoso.com'].includes(p));
  return tenant([mailbox('scanner', true), mailbox('printer', true), ...primaries.map(mailboxFor)]);
}

const PLAYBOOK = `apiVersion: exo-playbook/v1
name: legal-addresses
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: access-token, token: "\${env:EXO_TOKEN}" }
steps:
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: ["\${file:allow.txt}"] }
`;

const TOKEN = `eyJ0eXAiOiJKV1QifQ.legal-addresses-${process.pid}.c2ln`;

describe('validate: legal forms accepted, impossible ones refused at line:col', () => {
  const load = (lines: string[]) =>
    loadPlaybookFromText(PLAYBOOK, '/virtual/playbook.yaml', { env: { EXO_TOKEN: TOKEN }, signInEnv: 'warn', readFile: async () => lines.join('\n') + '\n' });

  it(`accepts all ${LEGAL.length} legal forms`, async () => {
    const loaded = await load(LEGAL.map(([written]) => written));
    const allow = loaded.playbook.steps[0]!;
    expect(allow.uses === 'smtp-auth/allowlist' && allow.with.mailboxes).toEqual(LEGAL.map(([written]) => written));
  });

  it.each(IMPOSSIBLE.map(([address, why], index) => [JSON.stringify(address), address, why, index] as const))('refuses %s', async (_name, address, why) => {
    // Each impossible entry sits on line 2 of the file, after a legal one.
    const failure = await load(["o'brien@contoso.com", `  ${address}`]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PlaybookInvalid);
    const [problem] = (failure as PlaybookInvalid).problems;
    expect(problem?.location).toMatchObject({ line: 2, col: 3 });
    expect(problem?.message).toMatch(why);
  });

  it('a notify address must be a full address: an alias there is refused', async () => {
    const text = PLAYBOOK.replace('steps:\n', 'steps:\n  - id: usage\n    uses: smtp-auth/usage\n    with: { notifyAddress: admin }\n');
    const failure = await loadPlaybookFromText(text, '/virtual/playbook.yaml', { env: { EXO_TOKEN: TOKEN }, readFile: async () => 'a@contoso.com\n' }).catch((e: unknown) => e);
    expect((failure as PlaybookInvalid).problems.map((p) => `${p.location.line}:${p.location.col} ${p.message}`)).toEqual([
      '9:28 invalid mailbox address "admin": it has no @',
    ]);
  });
});

describe('the allowlist resolves every legal form to its mailbox', () => {
  let w: EngineWorkspace;
  beforeAll(() => {
    assertBuilt();
    w = new EngineWorkspace(addressTenant());
    writeFileSync(w.playbook, PLAYBOOK);
    writeFileSync(join(w.dir, 'allow.txt'), LEGAL.map(([written]) => written).join('\n') + '\n');
  });
  afterAll(() => w.cleanup());

  it('on the simulator: validate accepts the file, and apply sets each mailbox to $false (SMTP AUTH kept)', () => {
    const validate = w.run(['validate', 'playbook.yaml']);
    expect(validate.code, validate.stderr).toBe(0);
    const r = w.run(['apply', 'playbook.yaml', '--target', `sim:${w.state}`, '--runs-dir', 'runs', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = new Map(w.readState().mailboxes.map((m) => [m.PrimarySmtpAddress, m.SmtpClientAuthenticationDisabled]));
    for (const [written, primary] of LEGAL) expect(after.get(primary), written).toBe(false);
  });
});

describe.skipIf(!pwsh)('through real pwsh + the stub module', () => {
  let w: EngineWorkspace;
  const forms = LEGAL.filter(([written]) => ["o'brien@contoso.com", 'query?caret^tick`@contoso.com', 'dollar$percent%amp&@contoso.com', 'josé.garcía@contoso.com', '用户@例子.广告', 'MixedCase.User@CONTOSO.com'].includes(written));
  beforeAll(() => {
    assertBuilt();
    w = new EngineWorkspace(addressTenant());
    writeFileSync(w.playbook, PLAYBOOK);
    writeFileSync(join(w.dir, 'allow.txt'), forms.map(([written]) => written).join('\n') + '\n');
  });
  afterAll(() => w.cleanup());

  it("o'brien and the other quote-, backtick-, dollar- and non-ASCII forms are written as data: each mailbox set to $false", () => {
    const env = {
      EXO_TOKEN: TOKEN,
      EXO_PLAYBOOK_PWSH: pwsh!.path,
      EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
      EXO_PLAYBOOK_STUB_STATE: w.state,
    };
    const r = spawnSync(process.execPath, [CLI, 'apply', 'playbook.yaml', '--target', 'exchange', '--runs-dir', 'runs', '--yes'], {
      cwd: w.dir,
      env: { ...w.env(), ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const after = new Map((JSON.parse(readFileSync(w.state, 'utf8')) as TenantState).mailboxes.map((m) => [m.PrimarySmtpAddress, m.SmtpClientAuthenticationDisabled]));
    for (const [written, primary] of forms) expect(after.get(primary), written).toBe(false);
    // Nothing else was touched.
    expect(after.get('a@contoso.com')).toBe(true);
  });
});
