#!/usr/bin/env zx
/**
 * `npm run demo`: the SMTP AUTH disable playbook from audit to verify, on a fresh simulated tenant,
 * through the built CLI. Needs nothing but Node (the CLI is built by `prepare` during npm ci).
 *
 *   .demo/tenant.json                        a simulated tenant: SMTP AUTH on for the organization,
 *                                            a dozen explicit $false overrides, active senders
 *   .demo/smtp-auth-disable.yaml             a copy of playbooks/smtp-auth-disable.yaml
 *   .demo/allowlist.txt                      the devices that keep SMTP AUTH
 *   .demo/smtp-auth-clients-report.csv       the admin center's SMTP AUTH clients report, as exported
 *                                            (written by `exo-playbook sim export-usage`)
 *
 * Then: plan (exit 2, will-break listed) → apply (refused, exit 4) → apply accepting those senders
 * (exit 0) → verify (exit 0) → probes of SMTP submission (simulated): the allowlisted device accepted,
 * another refused, then refused too once Microsoft's Basic default is switched on (exit 2) → the
 * allowlisted device's app moved to OAuth (smtp-auth-oauth-migration.yaml): plan (exit 2), apply and its
 * proof, "OAuth proven" (exit 0). Then a fleet of 25 simulated tenants: fleet plan --out (2) → fleet
 * apply --plan (4: applied, the tenants the guard refuses named) → fleet verify (2). Any other exit code
 * fails the demo.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $, chalk } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = process.env.EXO_PLAYBOOK_DEMO_DIR ?? join(root, '.demo');
const cli = join(root, 'bin', 'exo-playbook.js');
const started = Date.now();

if (!existsSync(join(root, 'dist', 'bundle', 'exo-playbook.mjs')) || !existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.log('Building the CLI (npm run build)...');
  await $({ cwd: root, stdio: 'inherit' })`npm run build`;
}
const { generateTenant } = await import(join(root, 'dist', 'exchange', 'simulator', 'generate.js'));
const { writeStateFile } = await import(join(root, 'dist', 'exchange', 'simulator', 'state-file.js'));

await rm(demo, { recursive: true, force: true });
await mkdir(demo, { recursive: true });

// 1. A tenant made before 2020: SMTP AUTH on for the organization, a dozen mailboxes with an explicit
//    $false (devices, and strays nobody remembers), people and apps still submitting with SMTP AUTH.
const state = generateTenant({
  mailboxes: 400,
  seed: 'exo-playbook-demo',
  orgSmtpAuthDisabled: false,
  explicitEnabled: 12,
  activeSenders: 9,
  clock: new Date().toISOString(),
  usageDetail: true,
});
const statePath = join(demo, 'tenant.json');
await writeStateFile(statePath, state);

// 2. The allowlist: the active senders that already have an explicit $false (the devices someone
//    opened SMTP AUTH for). Active senders that only follow the organization are left out on
//    purpose: the lockout guard must catch them.
const explicitFalse = new Set(
  state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === false).map((m) => m.PrimarySmtpAddress.toLowerCase()),
);
const allowlisted = [...new Set(state.smtpAuthActivity.map((a) => a.sender.toLowerCase()))].filter((s) => explicitFalse.has(s));
await writeFile(
  join(demo, 'allowlist.txt'),
  ['# Devices that keep SMTP AUTH (demo)', ...allowlisted.map((a) => `${a}   # active SMTP AUTH sender`), ''].join('\n'),
);

// 3. The usage report as the admin center exports it (UTF-8 with BOM, CRLF, no date column), written
//    by the CLI itself: the same file an admin would download for this tenant. Its modification time is
//    the tenant's clock (the export's moment), so the lockout guard finds it fresh (maxAgeDays, 7).
await $({ cwd: root, quiet: true })`node ${cli} sim export-usage ${statePath} --kind clients-report --out ${join(demo, 'smtp-auth-clients-report.csv')}`;

// 4. The shipped disable playbook, pointed at the demo allowlist and tenant.
const shipped = await readFile(join(root, 'playbooks', 'smtp-auth-disable.yaml'), 'utf8');
const playbookText = shipped
  .replace('${file:allowlist.example.txt}', '${file:allowlist.txt}')
  .replace('contoso.onmicrosoft.com', state.organization.Name);
await writeFile(join(demo, 'smtp-auth-disable.yaml'), playbookText);

// The shipped playbook signs in with a certificate; the simulated tenant ignores it, but the
// references must resolve. Placeholders, not secrets.
const env = { ...process.env, EXO_APP_ID: '00000000-0000-0000-0000-000000000000', EXO_CERT_PEM: join(demo, 'not-used.pem'), NO_COLOR: '1' };
const playbook = relative(root, join(demo, 'smtp-auth-disable.yaml'));
const common = ['--target', `sim:${relative(root, statePath)}`];
const runsDir = ['--runs-dir', relative(root, join(demo, 'runs'))];
const quiet$ = $({ cwd: root, env, nothrow: true, quiet: true });

async function step(title, args, expected) {
  console.log(chalk.bold(`\n$ exo-playbook ${args.join(' ')}`));
  const result = await quiet$`node ${cli} ${args}`;
  process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
  const ok = result.exitCode === expected;
  console.log((ok ? chalk.green : chalk.red)(`→ exit ${result.exitCode} (${title}; expected ${expected})`));
  if (!ok) {
    console.error(chalk.red('The demo did not go as expected.'));
    process.exit(1);
  }
  return result;
}

console.log(chalk.bold(`Simulated tenant ${state.organization.Name}: ${relative(root, statePath)}`));
console.log(`${state.mailboxes.length} mailboxes, organization SMTP AUTH on, ${explicitFalse.size} explicit $false, ${state.smtpAuthActivity.length} active SMTP AUTH senders; allowlist: ${allowlisted.join(', ')}`);

await step('changes pending, senders would break', ['plan', playbook, ...common], 2);
const planJson = await quiet$`node ${cli} plan ${playbook} ${common} --format json`;
const plan = JSON.parse(planJson.stdout);
const risks = [...plan.risks, ...plan.steps.flatMap((s) => s.risks)];
const willBreak = [...new Set(risks.filter((r) => r.kind === 'will-break' && !r.accepted).map((r) => r.subject))];

await step('refused by the lockout guard', ['apply', playbook, ...common, ...runsDir, '--yes'], 4);
await step('applied, the named senders accepted', ['apply', playbook, ...common, ...runsDir, '--yes', '--accept-breakage', willBreak.join(',')], 0);
await step('compliant', ['verify', playbook, ...common], 0);

// 5. Settings are not behaviour: probe SMTP submission as a device would (simulated: no network, no
//    mail sent). An allowlisted device still gets in; everyone else is refused for the tenant; and once
//    Microsoft's Basic default reaches the tenant, the allowlisted device is refused too.
const probeEnv = { ...env, DEMO_CANARY_PASSWORD: randomBytes(24).toString('base64') };
const probeRuns = ['--runs-dir', relative(root, join(demo, 'probe-runs'))];
const outsider = state.mailboxes.find((m) => m.SmtpClientAuthenticationDisabled === null)?.PrimarySmtpAddress;
async function probe(title, mailbox, expect, code) {
  const args = ['probe', mailbox, '--password-env', 'DEMO_CANARY_PASSWORD', '--expect', expect, ...common, ...probeRuns];
  console.log(chalk.bold(`\n$ exo-playbook ${args.join(' ')}`));
  const result = await $({ cwd: root, env: probeEnv, nothrow: true, quiet: true })`node ${cli} ${args}`;
  process.stdout.write(result.stdout + result.stderr);
  const ok = result.exitCode === code;
  console.log((ok ? chalk.green : chalk.red)(`→ exit ${result.exitCode} (${title}; expected ${code})`));
  if (!ok) process.exit(1);
}
if (allowlisted[0] && outsider) {
  await probe('the allowlisted device still gets in', allowlisted[0], 'accepted', 0);
  await probe('everyone else is refused', outsider, 'tenant-disabled', 0);
  const after = JSON.parse(await readFile(statePath, 'utf8'));
  after.smtp = { ...after.smtp, basicAuthDefaultOff: true };
  await writeFile(statePath, JSON.stringify(after));
  console.log(chalk.bold("\nSimulating Microsoft's Basic SMTP AUTH default reaching the tenant (state.smtp.basicAuthDefaultOff):"));
  await probe('drift: the allowlisted device is refused', allowlisted[0], 'accepted', 2);
}

// 6. Off Basic for good: the allowlisted device's app moves to OAuth (playbooks/smtp-auth-oauth-migration.yaml).
//    The simulated tenant plays Entra (it knows the app and its secret) and the submission endpoint, so
//    the proof is a real check of the grant the apply writes: Basic only → OAuth provisioned → OAuth proven.
if (allowlisted[0]) {
  const migration = await readFile(join(root, 'playbooks', 'smtp-auth-oauth-migration.yaml'), 'utf8');
  const appId = /appId: ([0-9a-f-]{36})/.exec(migration)[1];
  const objectId = /servicePrincipalObjectId: ([0-9a-f-]{36})/.exec(migration)[1];
  const secret = randomBytes(24).toString('base64');
  const tenantNow = JSON.parse(await readFile(statePath, 'utf8'));
  const { createHash } = await import('node:crypto');
  tenantNow.entra = { applications: [{ appId, servicePrincipalObjectId: objectId, displayName: 'Scanner app', clientSecretSha256: createHash('sha256').update(secret).digest('hex') }] };
  await writeFile(statePath, JSON.stringify(tenantNow));
  await writeFile(
    join(demo, 'smtp-auth-oauth-migration.yaml'),
    migration
      .replaceAll('scanner@contoso.com', allowlisted[0])
      .replace('contoso.onmicrosoft.com', state.organization.Name)
      .replace('credential: { certificatePath: scanner-app.pem }', 'credential: { clientSecret: "${env:DEMO_APP_SECRET}" }'),
  );
  const oauthPlaybook = relative(root, join(demo, 'smtp-auth-oauth-migration.yaml'));
  console.log(chalk.bold(`\nMoving ${allowlisted[0]}'s app to OAuth (SMTP.SendAsApp, RBAC for Applications), proven with a real XOAUTH2 sign-in:`));
  const oauth$ = $({ cwd: root, env: { ...env, DEMO_APP_SECRET: secret }, nothrow: true, quiet: true });
  for (const [title, args, expected] of [
    ['the service principal and the grant to write; the sender is "Basic only"', ['plan', oauthPlaybook, ...common], 2],
    ['written, then proven: "OAuth proven"', ['apply', oauthPlaybook, ...common, ...runsDir, '--yes'], 0],
  ]) {
    console.log(chalk.bold(`\n$ exo-playbook ${args.join(' ')}`));
    const result = await oauth$`node ${cli} ${args}`;
    process.stdout.write(result.stdout + result.stderr);
    const ok = result.exitCode === expected && (args[0] !== 'apply' || /migration: OAuth proven/.test(result.stdout));
    console.log((ok ? chalk.green : chalk.red)(`→ exit ${result.exitCode} (${title}; expected ${expected})`));
    if (!ok) process.exit(1);
  }
}
// 7. A fleet: 25 simulated tenants (`sim init-fleet`), one inventory, one playbook, approval once:
//    the plans are saved and reviewed, then exactly those plans are applied, each tenant in isolation
//    (its own lock, run folder, journal and lockout guard); the guard refuses the tenants whose active
//    senders are not on their allowlist, and the others are applied.
const fleetDir = join(demo, 'fleet');
await $({ cwd: root, quiet: true })`node ${cli} sim init-fleet ${fleetDir} --tenants 25 --mailboxes 120 --seed exo-playbook-demo`;
const fleetCommon = [relative(root, join(fleetDir, 'smtp-auth-fleet.yaml')), '--inventory', relative(root, join(fleetDir, 'inventory.yaml')), '--parallel', '4'];
const fleetPlans = relative(root, join(fleetDir, 'plans'));
console.log(chalk.bold(`\nA fleet of 25 simulated tenants: ${relative(root, join(fleetDir, 'inventory.yaml'))}`));
await step('fleet plan: changes pending in every tenant, the plans saved for review', ['fleet', 'plan', ...fleetCommon, '--out', fleetPlans], 2);
await step('fleet apply of exactly the reviewed plans: applied, except the tenants the lockout guard refuses', ['fleet', 'apply', ...fleetCommon, '--plan', fleetPlans, '--runs-dir', relative(root, join(fleetDir, 'runs')), '--result', relative(root, join(fleetDir, 'applied.json'))], 4);
await step('fleet verify: the applied tenants compliant, the refused ones still drift', ['fleet', 'verify', ...fleetCommon, '--format', 'markdown'], 2);

const runs = (await readdir(join(demo, 'runs'))).sort();
const applied = [];
for (const name of runs) {
  const journal = join(demo, 'runs', name, 'journal.jsonl');
  if (existsSync(journal) && (await readFile(journal, 'utf8')).trim()) applied.push(name);
}
const runDir = join(demo, 'runs', applied.at(-1) ?? runs.at(-1) ?? '');
console.log(chalk.bold('\nThe run that changed the tenant:'));
console.log(`  journal: ${relative(root, join(runDir, 'journal.jsonl'))}`);
console.log(`  report:  ${relative(root, join(runDir, 'summary.md'))}`);
console.log(`  undo it: exo-playbook rollback ${relative(root, runDir)} ${common.join(' ')} --yes`);
console.log(chalk.green(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
