/**
 * Every path a playbook names is confined like `report:` (issue 24 point 3): one table
 * (PLAYBOOK_PATHS) and one check, at the value's line; `fileRoots` takes literal paths only.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlaybook, PlaybookInvalid } from '../../src/playbook/load.js';
import { PLAYBOOK_PATHS } from '../../src/playbook/referenced-files.js';

const root = mkdtempSync(path.join(tmpdir(), 'exo-playbook-paths-'));
const dir = path.join(root, 'playbooks');
mkdirSync(dir);
mkdirSync(path.join(root, 'outside'));
execFileSync('mkfifo', [path.join(dir, 'request.fifo')]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function playbook(lines: string[], head: string[] = []): string {
  const file = path.join(dir, 'p.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: exo-playbook/v1',
      'name: paths',
      ...head,
      'tenant:',
      '  organization: contoso.onmicrosoft.com',
      '  auth: { method: azure-cli }',
      'steps:',
      ...lines,
      '',
    ].join('\n'),
  );
  return file;
}

async function problems(file: string, options: Parameters<typeof loadPlaybook>[1] = {}) {
  const error = await loadPlaybook(file, { env: { HOME: root }, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlaybookInvalid);
  return (error as PlaybookInvalid).problems.map((p) => `${p.location.line}:${p.location.col} ${p.message}`);
}

describe('paths a playbook names', () => {
  it('history: outside the playbook folder is refused at its line (it would be written there by verify)', async () => {
    const file = playbook(['  - id: usage', '    uses: smtp-auth/usage', '    with:', '      report: usage.csv', '      history: ../outside/history.json']);
    writeFileSync(path.join(dir, 'usage.csv'), 'Sender address,Display name,Authentication protocol,Messages sent,Last activity (UTC)\n');
    expect(await problems(file)).toContainEqual(expect.stringMatching(/^11:16 cannot use the usage history \.\.\/outside\/history\.json: it resolves to .*outside\/history\.json, outside the playbook's folder/));
  });

  it('history: inside the folder that does not exist yet is fine (the first verify creates it)', async () => {
    const file = playbook(['  - id: usage', '    uses: smtp-auth/usage', '    with:', '      report: usage.csv', '      history: history.json']);
    await expect(loadPlaybook(file, { env: {} })).resolves.toBeDefined();
  });

  it('requestReport: outside the folder or a FIFO is refused at its line (validate --require-env and plan alike)', async () => {
    const file = playbook([
      '  - id: a',
      '    uses: smtp-auth/usage',
      '    with: { requestReport: ../../../../etc/passwd }',
      '  - id: b',
      '    uses: smtp-auth/usage',
      '    with: { requestReport: request.fifo }',
    ]);
    for (const runFiles of ['require', 'warn'] as const) {
      const found = await problems(file, { runFiles });
      expect(found).toContainEqual(expect.stringMatching(/^9:28 cannot read the request report \.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd: it resolves to \/etc\/passwd, outside the playbook's folder/));
      expect(found).toContainEqual(expect.stringMatching(/^12:28 cannot read the request report request\.fifo: it is a FIFO \(named pipe\), not a regular file/));
    }
  });

  it('caFile: of a probe step outside the folder is refused at its line', async () => {
    const file = playbook([
      '  - id: probe',
      '    uses: smtp-auth/probe',
      '    with: { mailbox: canary@contoso.com, password: "${env:CANARY}", expect: accepted, caFile: /etc/ssl/certs/ca-certificates.crt }',
    ]);
    const found = await problems(file, { env: { CANARY: 'x' } });
    expect(found).toContainEqual(expect.stringMatching(/^9:\d+ cannot read the CA file \/etc\/ssl\/certs\/ca-certificates\.crt: it resolves to .*, outside the playbook's folder/));
  });

  it('fileRoots takes literal paths only: a ${env:} reference is refused at its line, though it resolves to a plain path', async () => {
    const file = playbook(['  - id: org', '    uses: transport-config', '    with: { smtpClientAuthenticationDisabled: true }'], ['fileRoots: ["${env:HOME}", shared]']);
    expect(await problems(file)).toEqual(['3:13 must be a plain folder path (no ${...} references)']);
  });

  it('every `with:` key of the schema that names a file is in PLAYBOOK_PATHS (a new one must be confined too)', () => {
    const schema = JSON.parse(readFileSync(path.resolve('playbooks/playbook.schema.json'), 'utf8')) as {
      properties: { steps: { anyOf: { items: { oneOf: { properties: { uses: { const: string }; with?: { properties?: Record<string, { description?: string }> } } }[] } }[] } };
    };
    const named: string[] = [];
    for (const variant of schema.properties.steps.anyOf[0]!.items.oneOf) {
      for (const [key, spec] of Object.entries(variant.properties.with?.properties ?? {})) {
        // A secret is a ${env:}/${file:} reference, read by the resolver's own confinement.
        if (/reference/i.test(spec.description ?? '')) continue;
        if (/^(Path to|A file|A PEM file)|relative to the playbook/i.test(spec.description ?? '')) named.push(`${variant.properties.uses.const} ${key}`);
      }
    }
    expect(named.length).toBeGreaterThan(0);
    expect(named.sort()).toEqual(PLAYBOOK_PATHS.map((p) => `${p.uses} ${p.key}`).sort());
  });
});
