/** Loading a valid playbook: resolved values, real positions, hash, origins, secrets kept as references. */
import { mkdtemp, readFile, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPlaybook, loadPlaybookFromText, PlaybookInvalid, resolveSecret } from '../../src/playbook/load.js';
import { InputError } from '../../src/errors.js';

const fixtures = path.resolve('test/fixtures/good-playbooks');
const everyFeature = path.join(fixtures, 'every-feature.yaml');
const env = { EXO_TEST_TICKET: 'CHG0042', EXO_TEST_APP_ID: 'app-id', EXO_TEST_CERT_PASSWORD: 's3cret' };

/** A copy of the fixtures in a folder of the test's own, removed when the test ends. */
async function copyFixtures(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'exo-playbook-load-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await cp(fixtures, dir, { recursive: true });
  return dir;
}

async function problemsOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlaybookInvalid);
  return (error as PlaybookInvalid).problems;
}

describe('loadPlaybook', () => {
  it('resolves env, vars and allowlist files, splices lists and applies defaults', async () => {
    const loaded = await loadPlaybook(everyFeature, { env });
    const { playbook } = loaded;
    expect(playbook.description).toBe('Org contoso.onmicrosoft.com, ticket CHG0042');
    expect(playbook.tenant.organization).toBe('contoso.onmicrosoft.com');
    expect(playbook.tenant.auth).toEqual({
      method: 'certificate',
      appId: 'app-id',
      certificatePath: 'certs/app.pfx',
      certificatePassword: '${env:EXO_TEST_CERT_PASSWORD}',
    });
    expect(playbook.acceptBreakage).toEqual(['legacy-crm@contoso.com']);
    const allow = playbook.steps.find((s) => s.id === 'allow');
    expect(allow?.uses === 'smtp-auth/allowlist' && allow.with).toEqual({
      mailboxes: ['scanner-floor2@contoso.com', 'Printer@Contoso.com', 'erp@contoso.com'],
      exclusive: true,
      explicitDisabled: 'keep',
    });
    const verify = playbook.steps.find((s) => s.id === 'verify');
    expect(verify?.with).toEqual({ checkAuthenticationPolicies: true });
    expect(loaded.file).toBe(everyFeature);
    expect(loaded.baseDir).toBe(fixtures);
    expect(loaded.referencedFiles).toEqual([path.join(fixtures, 'lists/apps.txt'), path.join(fixtures, 'lists/devices.txt')]);
  });

  it('locates values in the playbook (flow mappings included) and in allowlist files', async () => {
    const loaded = await loadPlaybook(everyFeature, { env });
    expect(loaded.locate(['steps', 0, 'with', 'days'])).toEqual({ file: everyFeature, line: 17, col: 19 });
    expect(loaded.locate(['steps', 0, 'with', 'notifyAddress', 1])).toEqual({ file: everyFeature, line: 17, col: 58 });
    expect(loaded.locate(['tenant', 'auth', 'certificatePath'])).toEqual({ file: everyFeature, line: 8, col: 82 });
    const devices = path.join(fixtures, 'lists/devices.txt');
    expect(loaded.locate(['steps', 2, 'with', 'mailboxes', 0])).toEqual({ file: devices, line: 3, col: 1 });
    expect(loaded.locate(['steps', 2, 'with', 'mailboxes', 1])).toEqual({ file: devices, line: 4, col: 3 });
    expect(loaded.locate(['steps', 2, 'with', 'mailboxes', 2])).toEqual({ file: everyFeature, line: 27, col: 11 });
    // A path that was not written (a default) locates its nearest written ancestor.
    expect(loaded.locate(['steps', 3, 'with', 'checkAuthenticationPolicies'])).toEqual({ file: everyFeature, line: 29, col: 5 });
  });

  it('records where each allowlisted address came from, by lower-cased address', async () => {
    const loaded = await loadPlaybook(everyFeature, { env });
    expect(loaded.origins.get('printer@contoso.com')).toEqual([{ file: path.join(fixtures, 'lists/devices.txt'), line: 4, col: 3 }]);
    expect([...loaded.origins.keys()]).toEqual(['scanner-floor2@contoso.com', 'printer@contoso.com', 'erp@contoso.com']);
  });

  it('hashes the playbook with its allowlist files: an allowlist edit changes the hash, a re-load does not', async () => {
    const dir = await copyFixtures();
    const file = path.join(dir, 'every-feature.yaml');
    const first = await loadPlaybook(file, { env });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadPlaybook(file, { env })).hash).toBe(first.hash);
    // The same content elsewhere hashes the same (paths are relative to the playbook).
    expect((await loadPlaybook(everyFeature, { env })).hash).toBe(first.hash);
    await writeFile(path.join(dir, 'lists/devices.txt'), (await readFile(path.join(dir, 'lists/devices.txt'), 'utf8')) + 'new@contoso.com\n');
    expect((await loadPlaybook(file, { env })).hash).not.toBe(first.hash);
    const edited = (await loadPlaybook(file, { env })).hash;
    // The secret's value is not part of the hash.
    expect((await loadPlaybook(file, { env: { ...env, EXO_TEST_CERT_PASSWORD: 'other' } })).hash).toBe(edited);
  });

  it('loads from text with a custom reader for ${file:} targets (diff at a git revision)', async () => {
    const text = await readFile(everyFeature, 'utf8');
    const reads: string[] = [];
    const loaded = await loadPlaybookFromText(text, 'playbooks/every-feature.yaml', {
      env,
      readFile: async (absolutePath) => {
        reads.push(path.basename(absolutePath));
        return absolutePath.endsWith('devices.txt') ? 'old-scanner@contoso.com\n' : 'legacy-crm@contoso.com\n';
      },
    });
    expect(reads.sort()).toEqual(['apps.txt', 'devices.txt']);
    expect(loaded.playbook.steps[2]?.with).toMatchObject({ mailboxes: ['old-scanner@contoso.com', 'erp@contoso.com'] });
    expect(loaded.locate(['steps', 2, 'with', 'mailboxes', 0])).toEqual({ file: 'playbooks/lists/devices.txt', line: 1, col: 1 });
  });

  it('a whole-value env reference stays a string, interpolation joins strings', async () => {
    const text = `apiVersion: exo-playbook/v1
name: "\${env:EXO_TEST_NAME}"
description: "a-\${env:EXO_TEST_NAME}-b"
tenant: { organization: contoso.onmicrosoft.com, auth: { method: azure-cli } }
steps: [{ id: v, uses: smtp-auth/verify }]
`;
    const loaded = await loadPlaybookFromText(text, path.join(fixtures, 'inline.yaml'), { env: { EXO_TEST_NAME: 'from-env' } });
    expect(loaded.playbook.name).toBe('from-env');
    expect(loaded.playbook.description).toBe('a-from-env-b');
  });

  it('refuses a playbook and an allowlist file over 1 MiB, and strips a UTF-8 BOM', async () => {
    const dir = await copyFixtures();
    const big = path.join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(1024 * 1024)}\n`);
    const problems = await problemsOf(loadPlaybook(big, { env }));
    expect(problems[0]).toMatchObject({ location: { line: 1, col: 1 }, message: expect.stringContaining('over the 1048576-byte limit') });

    await writeFile(path.join(dir, 'lists/devices.txt'), 'a@contoso.com\n'.repeat(80_000));
    const allowlistProblems = await problemsOf(loadPlaybook(path.join(dir, 'every-feature.yaml'), { env }));
    expect(allowlistProblems[0]?.message).toMatch(/cannot read .*devices\.txt: .*over the 1048576-byte limit/);

    await cp(path.join(fixtures, 'lists/devices.txt'), path.join(dir, 'lists/devices.txt'));
    const bom = path.join(dir, 'bom.yaml');
    await writeFile(bom, '\uFEFF' + (await readFile(everyFeature, 'utf8')));
    await expect(loadPlaybook(bom, { env })).resolves.toMatchObject({ playbook: { name: 'every-feature' } });
  });

  it('a missing playbook file is a located InputError, not a crash', async () => {
    const problems = await problemsOf(loadPlaybook(path.join(fixtures, 'no-such.yaml')));
    expect(problems[0]?.message).toBe('no such playbook file');
  });
});

describe('resolveSecret', () => {
  it('reads an env var or a file relative to the playbook folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'exo-playbook-secret-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'token.txt'), 'tok-123\n');
    await expect(resolveSecret('${env:EXO_T}', { EXO_T: 'from-env' }, dir)).resolves.toBe('from-env');
    await expect(resolveSecret('${file:token.txt}', {}, dir)).resolves.toBe('tok-123');
  });

  it('refuses inline values and unset variables without echoing a secret', async () => {
    await expect(resolveSecret('hunter2', {}, '/')).rejects.toThrow(/never written inline/);
    const error = await resolveSecret('${env:EXO_UNSET}', {}, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe('secret environment variable EXO_UNSET is not set');
  });
});
