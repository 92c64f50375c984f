import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, SessionError } from '../../../src/errors.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import { modulePathsFrom, openTarget, parseTarget } from '../../../src/exchange/target.js';
import { smallTenant } from './tenant-state.js';

const ORG = 'contoso.onmicrosoft.com';
let dir: string;
let stateFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-target-'));
  stateFile = join(dir, 'tenant.json');
  await writeStateFile(stateFile, smallTenant(ORG));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tenant = (organization = ORG) => ({ organization, auth: { method: 'access-token' as const, token: '${env:EXO_TOKEN}' } });
const options = (extra: object = {}) => ({ env: {}, baseDir: dir, cmdlets: ['Get-TransportConfig'], ...extra });

describe('parseTarget', () => {
  it('knows exchange and sim:<path> (relative to the working directory)', () => {
    expect(parseTarget('exchange', '/work')).toEqual({ kind: 'exchange' });
    expect(parseTarget('sim:tenants/a.json', '/work')).toEqual({ kind: 'sim', stateFile: '/work/tenants/a.json' });
    expect(parseTarget('sim:/abs/a.json', '/work')).toEqual({ kind: 'sim', stateFile: '/abs/a.json' });
  });

  it('anything else is an InputError that lists the valid targets', () => {
    for (const bad of ['Exchange', 'sim', 'sim:', 'simulator:x.json', '']) {
      const failure = (() => {
        try {
          return parseTarget(bad, '/work');
        } catch (error) {
          return error;
        }
      })();
      expect(failure, bad).toBeInstanceOf(InputError);
      expect((failure as InputError).hint).toContain('--target exchange, or --target sim:<state.json>');
    }
  });

  it('EXO_PLAYBOOK_MODULE_PATH is a path list of extra module folders', () => {
    expect(modulePathsFrom({ EXO_PLAYBOOK_MODULE_PATH: '/a:/b::' })).toEqual(['/a', '/b']);
    expect(modulePathsFrom({})).toEqual([]);
  });
});

describe('openTarget sim:', () => {
  it('a missing state file is an InputError naming it and how to create one', async () => {
    const failure = await openTarget('sim:nope.json', tenant(), options({ cwd: dir })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as Error).message).toBe(`--target sim: the state file ${join(dir, 'nope.json')} does not exist`);
    expect((failure as InputError).hint).toContain('exo-playbook sim init');
  });

  it('opens the simulated tenant (path relative to cwd), connects to it, runs calls and disconnects on close', async () => {
    const session = await openTarget(`sim:${relative(process.cwd(), stateFile)}`, tenant(), options());
    expect(session.kind).toBe('simulator');
    const result = await session.invoke('Get-TransportConfig');
    expect(result.objects[0]?.SmtpClientAuthenticationDisabled).toBe(false);
    await session.close();
    await expect(session.invoke('Get-TransportConfig')).rejects.toThrow(/closed/);
  });

  it('a wrong organization fails at connect with a SessionError saying what to check', async () => {
    const failure = await openTarget(`sim:${stateFile}`, tenant('fabrikam.onmicrosoft.com'), options()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionError);
    const message = (failure as Error).message;
    expect(message).toContain('Sign-in to fabrikam.onmicrosoft.com failed (simulator)');
    expect(message).toContain(`the signed-in tenant is '${ORG}'`);
    expect(message).toContain("organization.Name in the state file");
    // The state file is untouched by a failed connect.
    expect(JSON.parse(await readFile(stateFile, 'utf8')).organization.Name).toBe(ORG);
  });
});
