/**
 * The OAuth proof end to end: after apply (and in verify) each app gets a token from a loopback
 * Entra token endpoint (a client secret for one app, a certificate for the other) and signs in to a
 * loopback SMTP server with XOAUTH2 as its mailbox; the server accepts a token only for a mailbox the
 * token's app is granted on in the tenant state. Never a MAIL FROM. On the simulator and through
 * pwsh + the stub module; then rollback, after which the same proof is refused.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import { makeCertificates } from '../support/certificates.js';
import { makeTestCertificate, startFakeExchangeSmtp, type FakeServer, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';
import { xoauth2GrantReply } from '../fixtures/smtp/xoauth2-grants.js';
import { startTokenEndpoint, type TokenEndpoint } from '../fixtures/oauth/token-endpoint.js';
import { assertBuilt } from './engine-support.js';
import { BILLING, OAUTH_STEPS, OAuthWorkspace, oauthTenant, playbookText, ROOT, SCANNER, withoutEmptyGrantLists } from './oauth-senders-support.js';

const pwsh = findPwsh();
const SECRET = `scanner-secret-${process.pid}`;
const TOKEN = `eyJ0eXAiOiJKV1QifQ.oauth-proof-${process.pid}.c2ln`;

let tls: TestCertificate;
beforeAll(() => {
  assertBuilt();
  tls = makeTestCertificate();
});
afterAll(() => tls.remove());

const open: { close(): Promise<void> }[] = [];
const workspaces: OAuthWorkspace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  workspaces.splice(0).forEach((w) => w.cleanup());
});

/** The steps with a credential per app and a proof block pointing at the loopback servers. */
function provingSteps(smtp: FakeServer, entra: TokenEndpoint, certificate: string, scannerSecret = '${env:SCANNER_SECRET}'): string {
  return OAUTH_STEPS.replace('          mailboxes: [scanner@contoso.com]\n', `          mailboxes: [scanner@contoso.com]\n          credential: { clientSecret: "${scannerSecret}" }\n`)
    .replace('          mailboxes: [billing@contoso.com]\n', `          mailboxes: [billing@contoso.com]\n          credential: { certificatePath: ${certificate} }\n`)
    .concat(`      proof: { host: 127.0.0.1, port: ${smtp.port}, caFile: smtp-ca.pem, authorityHost: "${entra.authorityHost}", tenantId: contoso.onmicrosoft.com, timeoutSeconds: 20 }\n`);
}

async function setUp(auth?: string, tweak: (state: ReturnType<typeof oauthTenant>) => void = () => undefined) {
  const state = oauthTenant();
  state.entra!.applications[0]!.clientSecretSha256 = createHash('sha256').update(SECRET, 'utf8').digest('hex');
  tweak(state);
  const w = new OAuthWorkspace(state, 'placeholder');
  workspaces.push(w);
  const smtp = await startFakeExchangeSmtp({ authReply: xoauth2GrantReply(w.state) }, tls);
  const entra = await startTokenEndpoint(w.state, tls);
  open.push(smtp, entra);
  makeCertificates(w.file('app-cert'), `unused-${process.pid}`);
  (await import('node:fs')).copyFileSync(tls.certFile, w.file('smtp-ca.pem'));
  (await import('node:fs')).writeFileSync(w.playbook, playbookText(provingSteps(smtp, entra, 'app-cert/exo.pem'), auth));
  return { w, smtp, entra, before: w.readState() };
}

interface Backend {
  name: string;
  auth?: string;
  args(w: OAuthWorkspace): string[];
  env(w: OAuthWorkspace): Record<string, string>;
}

const childEnv = (extra: Record<string, string> = {}) => ({ SCANNER_SECRET: SECRET, NODE_EXTRA_CA_CERTS: tls.certFile, ...extra });
const simulator: Backend = { name: 'simulator', args: (w) => ['--target', `sim:${w.state}`], env: () => childEnv() };
const stub: Backend = {
  name: 'pwsh + stub module',
  auth: '{ method: access-token, token: "${env:EXO_TOKEN}" }',
  args: () => ['--target', 'exchange'],
  env: (w) =>
    childEnv({
      EXO_TOKEN: TOKEN,
      EXO_PLAYBOOK_PWSH: pwsh!.path,
      EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
      EXO_PLAYBOOK_STUB_STATE: w.state,
    }),
};

for (const backend of [simulator, ...(pwsh ? [stub] : [])]) {
  describe(`oauth proof: ${backend.name}`, () => {
    it('proves both apps after apply with loopback tokens and XOAUTH2, sends nothing, and rollback takes the proof away', async () => {
      const { w, smtp, entra, before } = await setUp(backend.auth);
      const run = (args: string[]) => w.run([...args, ...backend.args(w)], backend.env(w));

      // Before apply nothing is granted: nothing to prove, every sender is "Basic only".
      const plan = await run(['plan', w.playbook, '--wide']);
      expect(plan.code, plan.stderr).toBe(2);
      expect(plan.stdout).toMatch(/Scanner app\s+scanner@contoso\.com\s+rbac\s+Basic only\s+OAuth provisioned/);
      expect(smtp.attempts).toEqual([]);

      const apply = await run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir]);
      expect(apply.code, apply.stdout + apply.stderr).toBe(0);
      expect(apply.stdout).toMatch(/PASS oauth-proven scanner@contoso\.com: OAuth proven: Scanner app signed in as it with XOAUTH2 \(235 2\.7\.0 Authentication successful\)/);
      expect(apply.stdout).toMatch(/PASS oauth-proven billing@contoso\.com: OAuth proven: Billing app signed in as it with XOAUTH2/);
      expect(entra.requests.filter((r) => r.issued).map((r) => [r.clientId, r.credential])).toEqual(
        expect.arrayContaining([
          [SCANNER.appId, 'secret'],
          [BILLING.appId, 'assertion'],
        ]),
      );
      expect(smtp.attempts.map((a) => [a.mechanism, a.user])).toEqual(expect.arrayContaining([['XOAUTH2', 'scanner@contoso.com'], ['XOAUTH2', 'billing@contoso.com']]));
      // A proof never submits anything.
      expect(smtp.commands.some((c) => /^(MAIL|RCPT|DATA)\b/i.test(c))).toBe(false);
      // The secret never reaches the output.
      expect(apply.stdout + apply.stderr).not.toContain(SECRET);

      const verify = await run(['verify', w.playbook]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('PASS oauth-proven scanner@contoso.com');
      expect(verify.stdout).toContain('PASS oauth-granted billing@contoso.com: Billing app may send as it (FullAccess); migration: OAuth proven');
      // The migration board for the team chasing device owners, and the same states in html.
      const csv = await run(['verify', w.playbook, '--format', 'csv']);
      expect(csv.stdout).toContain('App,App id,Mailbox,Grant,State,After apply,Proof,Basic messages in usage data');
      expect(csv.stdout).toContain(`Scanner app,${SCANNER.appId},scanner@contoso.com,rbac,OAuth proven,,proven: 235 2.7.0 Authentication successful,`);
      expect(csv.stdout).toContain(`Billing app,${BILLING.appId},billing@contoso.com,mailbox-permission,OAuth proven,,proven: 235 2.7.0 Authentication successful,`);
      const html = await run(['verify', w.playbook, '--format', 'html']);
      expect(html.stdout).toContain('migration: OAuth proven');

      const runDir = join(w.runsDir, readdirSync(w.runsDir).find((d) => d.endsWith('oauth-migration'))!);
      // The run directory keeps the proof's outcome (the verify after apply, in summary.md).
      expect(readFileSync(join(runDir, 'summary.md'), 'utf8')).toMatch(/oauth-proven \| EXOPB-OAUTH-004 \| scanner@contoso\.com \| OAuth proven: Scanner app signed in as it with XOAUTH2/);
      // ... and the journal too: one `proof` record per app × mailbox, no secret or token in it.
      const journalText = readFileSync(join(runDir, 'journal.jsonl'), 'utf8');
      const proofs = journalText.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.type === 'proof');
      expect(proofs.map((p) => [p.stepId, p.app, p.appId, p.mailbox, p.outcome, p.evidence])).toEqual(
        expect.arrayContaining([
          ['oauth', 'Scanner app', SCANNER.appId, 'scanner@contoso.com', 'proven', '235 2.7.0 Authentication successful'],
          ['oauth', 'Billing app', BILLING.appId, 'billing@contoso.com', 'proven', '235 2.7.0 Authentication successful'],
        ]),
      );
      expect(proofs).toHaveLength(2);
      expect(proofs[0]!.meaning).toBe('OAuth proven: the app signed in as the mailbox with XOAUTH2');
      expect(journalText).not.toContain(SECRET);
      expect(journalText).not.toContain(TOKEN);
      expect(journalText).not.toMatch(/eyJ0eXAi/);
      // Rollback reads past the proof records and undoes every write.
      const rollback = await run(['rollback', runDir, '--yes', '--runs-dir', w.runsDir]);
      expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
      expect(withoutEmptyGrantLists(w.readState())).toEqual(before);
      const after = await run(['verify', w.playbook]);
      expect(after.code).toBe(2);
      expect(after.stdout).toContain('FAIL oauth-granted scanner@contoso.com: Scanner app has no Application SMTP.SendAsApp role assignment scoped to it');
    });
  });
}

describe('oauth proof: Basic stopped, or still used', () => {
  it('a proven sender with no Basic submission in the usage data is "Basic stopped"; one still sending with Basic is warned about', async () => {
    const { w } = await setUp();
    (await import('node:fs')).writeFileSync(
      w.file('clients.csv'),
      '\uFEFFSender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol\r\nscanner@contoso.com,contoso.com,0%,0%,100%,"1,204",Basic Authentication\r\n',
    );
    const text = (await import('node:fs')).readFileSync(w.playbook, 'utf8').replace('steps:\n', 'steps:\n  - id: usage\n    uses: smtp-auth/usage\n    with: { report: clients.csv }\n');
    (await import('node:fs')).writeFileSync(w.playbook, text);
    const apply = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, '--target', `sim:${w.state}`], childEnv());
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain('PASS oauth-granted billing@contoso.com: Billing app may send as it (FullAccess); migration: Basic stopped');
    expect(apply.stdout).toContain('PASS oauth-granted scanner@contoso.com: Scanner app may send as it (Application SMTP.SendAsApp); migration: OAuth proven');
    expect(apply.stdout).toMatch(/WARN oauth-basic-still-used scanner@contoso\.com: proven on OAuth, but the usage evidence still shows 1204 Basic submission\(s\) by it/);
  });
});

describe('oauth proof: the December warning', () => {
  it('names only the senders with no proven route, and says how many it left out and why', async () => {
    const { w } = await setUp();
    const fs = await import('node:fs');
    fs.writeFileSync(
      w.file('clients.csv'),
      '\uFEFFSender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol\r\n' +
        'scanner@contoso.com,contoso.com,0%,0%,100%,"1,204",Basic Authentication\r\n' +
        'alice@contoso.com,contoso.com,0%,0%,100%,17,Basic Authentication\r\n',
    );
    fs.writeFileSync(w.playbook, fs.readFileSync(w.playbook, 'utf8').replace('steps:\n', 'steps:\n  - id: usage\n    uses: smtp-auth/usage\n    with: { report: clients.csv }\n'));
    const sim = ['--target', `sim:${w.state}`];

    // Before apply nothing is proven: both Basic senders are in the December warning.
    const before = await w.run(['plan', w.playbook, ...sim], childEnv());
    expect(before.code, before.stdout + before.stderr).toBe(2);
    expect(before.stdout).toMatch(/scanner@contoso\.com: breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(before.stdout).toMatch(/alice@contoso\.com: breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(before.stdout).not.toContain('left out of the December warning');

    // After apply the scanner is proven on OAuth: only alice is warned about, and the count says why.
    const apply = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, ...sim], childEnv());
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain('PASS oauth-proven scanner@contoso.com');
    expect(apply.stdout).toMatch(/WARN basic-smtp-deadline alice@contoso\.com: .*breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(apply.stdout).not.toMatch(/basic-smtp-deadline scanner@contoso\.com/);
    expect(apply.stdout).toMatch(/PASS usage-sender scanner@contoso\.com: .*OAuth proven for it by Scanner app \(step 'oauth'\): left out of the December warning/);
    expect(apply.stdout).toContain(
      "PASS basic-smtp-deadline OAuth-proven senders: 1 sender(s) left out of the December warning: proven on OAuth (XOAUTH2 sign-in as the mailbox) by an oauth-senders step, a route that survives Basic going off: scanner@contoso.com (Scanner app, step 'oauth')",
    );
    // Still sending with Basic: the oauth step keeps warning about it.
    expect(apply.stdout).toMatch(/WARN oauth-basic-still-used scanner@contoso\.com/);

    // The plan's warnings follow the same rule.
    const after = await w.run(['plan', w.playbook, ...sim], childEnv());
    expect(after.stdout).toMatch(/alice@contoso\.com: breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(after.stdout).not.toMatch(/scanner@contoso\.com: breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(after.stdout).toContain('1 sender(s) left out of the December warning');
  });
});

describe('oauth proof: what a refusal means', () => {
  it('a FullAccess grant without SMTP.SendAsApp consented: 535 5.7.3, with the usual causes and the retry delay', async () => {
    const { w } = await setUp(undefined, (state) => {
      state.entra!.applications[1]!.smtpSendAsAppConsented = false;
    });
    const apply = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, '--target', `sim:${w.state}`], childEnv());
    expect(apply.stdout).toMatch(/FAIL oauth-proven billing@contoso\.com: Billing app: the token was refused for this mailbox\. Usually: the grant has not replicated yet \(it can take minutes to an hour: run verify again in 30-60 minutes\), the SMTP\.SendAsApp application permission of "Office 365 Exchange Online" lacks admin consent in Entra, or the service principal was created with the app registration's object id/);
    expect(apply.stdout).toMatch(/server said: 535 5\.7\.3 Authentication unsuccessful/);
    expect(apply.stdout).toContain('PASS oauth-proven scanner@contoso.com');
    // The journal keeps the refusal: the server's line and what it usually means.
    const runDir = join(w.runsDir, readdirSync(w.runsDir).find((d) => d.endsWith('oauth-migration'))!);
    const refused = readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.type === 'proof' && r.mailbox === 'billing@contoso.com');
    expect(refused).toMatchObject({ outcome: 'refused', appId: BILLING.appId, evidence: expect.stringMatching(/^535 5\.7\.3 Authentication unsuccessful/), meaning: expect.stringMatching(/the grant has not replicated yet/) });
  });

  it('a credential that cannot be read: exit 1 at the credential, nothing written', async () => {
    const { w } = await setUp();
    const r = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, '--target', `sim:${w.state}`], { NODE_EXTRA_CA_CERTS: tls.certFile });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oauth\.yaml:19:\d+: step 'oauth': the credential of Scanner app cannot be read: secret environment variable SCANNER_SECRET is not set/);
    expect(w.readState().servicePrincipals).toBeUndefined();
  });

  it('a wrong client secret: no token, with Entra\'s own words', async () => {
    const { w } = await setUp();
    const r = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, '--target', `sim:${w.state}`], childEnv({ SCANNER_SECRET: 'not-the-secret' }));
    expect(r.stdout).toMatch(/FAIL oauth-proven scanner@contoso\.com: Scanner app: Entra issued no token for the app.*AADSTS7000215/);
    expect(r.stdout + r.stderr).not.toContain('not-the-secret');
  });
});
