/**
 * The canary password never leaks: not on any process's command line, not in the environment of
 * any process the CLI starts, not in any file a run writes (run directory, journal, plan, summary,
 * transcript, --log-file), nor in what the CLI prints. The probe runs against a loopback server that
 * holds its AUTH answer while the process list is searched.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGE_REPLIES, makeTestCertificate, startFakeExchangeSmtp, type FakeServer, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';
import { CLI, cli, PLAYBOOK_ENV } from './smtp-auth-support.js';
import { CANARY_PASSWORD, OTHER_PASSWORD, probeWorkspace, type ProbeWorkspace } from './smtp-probe-support.js';

let certificate: TestCertificate;
let server: FakeServer | undefined;
let ws: ProbeWorkspace | undefined;
beforeAll(() => {
  certificate = makeTestCertificate();
});
afterAll(() => certificate.remove());
afterEach(async () => {
  await server?.close();
  ws?.cleanup();
});

/** The password in every form it could be written: clear, base64, and inside an AUTH PLAIN blob. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(`\u0000canary@contoso.com\u0000${secret}`).toString('base64')];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function readProc(path: string): string {
  try {
    return readFileSync(path).toString('latin1');
  } catch {
    return '';
  }
}

function parentOf(pid: string): string {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
  const stat = readProc(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '';
}

/** Every process's command line, and the environment of every process below `root`, searched for the secret forms. */
function searchProcesses(root: number, secret: string, includeRootEnviron: boolean): string[] {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const below = new Set<string>([String(root)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const pid of pids) {
      if (below.has(pid) || !below.has(parentOf(pid))) continue;
      below.add(pid);
      grew = true;
    }
  }
  const hits: string[] = [];
  for (const pid of pids) {
    const cmdline = readProc(`/proc/${pid}/cmdline`);
    if (forms(secret).some((f) => cmdline.includes(f))) hits.push(`cmdline of ${pid}`);
    if (below.has(pid) && (includeRootEnviron || pid !== String(root))) {
      const environ = readProc(`/proc/${pid}/environ`);
      if (forms(secret).some((f) => environ.includes(f))) hits.push(`environ of ${pid}`);
    }
  }
  return hits;
}

function spawnCli(args: string[], env: Record<string, string>, cwd: string): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  let child!: ChildProcess;
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    child = execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...PLAYBOOK_ENV, ...env }, timeout: 240_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
  return { child, done };
}

describe('the canary password stays secret', () => {
  it.each([
    ['--password-file', false],
    ['--password-env', true],
  ] as const)('probe %s: not in any command line or child environment while AUTH is in flight, nor in any file or output', async (_how, viaEnv) => {
    ws = probeWorkspace();
    let hits: string[] | undefined;
    let control: string[] | undefined;
    const running: { child?: ChildProcess } = {};
    server = await startFakeExchangeSmtp(
      {
        authReply: EXCHANGE_REPLIES.mailboxDisabled,
        // The CLI is waiting for the AUTH answer now: look at every process.
        beforeAuthReply: async () => {
          hits = searchProcesses(running.child!.pid!, viaEnv ? CANARY_PASSWORD : OTHER_PASSWORD, !viaEnv);
          // The search can find a secret: the user put this one in the CLI's own environment.
          if (viaEnv) control = searchProcesses(running.child!.pid!, CANARY_PASSWORD, true);
        },
      },
      certificate,
    );
    const secretArgs = viaEnv ? ['--password-env', 'CANARY_PASSWORD'] : ['--password-file', 'other.secret'];
    const env: Record<string, string> = viaEnv ? { CANARY_PASSWORD } : {};
    const spawned = spawnCli(
      ['probe', 'canary@contoso.com', ...secretArgs, '--host', '127.0.0.1', '--port', String(server.port), '--ca-file', certificate.certFile, '--expect', 'accepted', '--runs-dir', 'runs', '--timeout', '60'],
      env,
      ws.dir,
    );
    running.child = spawned.child;
    const result = await spawned.done;
    const secret = viaEnv ? CANARY_PASSWORD : OTHER_PASSWORD;
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toContain(EXCHANGE_REPLIES.mailboxDisabled);
    // The probe reached AUTH with the right password, and the search ran while it was in flight.
    expect(server.attempts.map((a) => a.secret)).toEqual([secret]);
    expect(hits).toEqual([]);
    if (viaEnv) expect(control).toEqual([`environ of ${spawned.child.pid}`]);
    for (const f of forms(secret)) expect(result.stdout + result.stderr).not.toContain(f);
    const written = filesUnder(ws.dir).filter((f) => !f.endsWith('other.secret'));
    expect(written.some((f) => f.endsWith('transcript.txt'))).toBe(true);
    for (const file of written) {
      const text = readFileSync(file).toString('latin1');
      for (const f of forms(secret)) expect(text.includes(f), `${file} holds the password`).toBe(false);
    }
    const transcript = readFileSync(written.find((f) => f.endsWith('transcript.txt'))!, 'utf8');
    expect(transcript).toContain('C: AUTH LOGIN <redacted>');
    expect(transcript).not.toMatch(/^C: MAIL/m);
  });

  it('apply with probe steps: no file of the run (plan, journal, summary, log) holds either password', async () => {
    ws = probeWorkspace();
    const result = await cli(['apply', ws.playbook, '--target', `sim:${ws.state}`, '--yes', '--runs-dir', join(ws.dir, 'runs'), '--log-file', join(ws.dir, 'events.jsonl')], { CANARY_PASSWORD });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const written = filesUnder(ws.dir).filter((f) => !f.endsWith('other.secret'));
    expect(written.some((f) => f.endsWith('plan.json'))).toBe(true);
    expect(written.some((f) => f.endsWith('events.jsonl'))).toBe(true);
    for (const file of written) {
      const text = readFileSync(file).toString('latin1');
      for (const f of [...forms(CANARY_PASSWORD), ...forms(OTHER_PASSWORD)]) expect(text.includes(f), `${file} holds a password`).toBe(false);
    }
    // The redacted transcript is kept with the plan.
    const plan = readFileSync(written.find((f) => f.endsWith('plan.json'))!, 'utf8');
    expect(plan).toContain('C: AUTH LOGIN <redacted>');
    for (const f of [...forms(CANARY_PASSWORD), ...forms(OTHER_PASSWORD)]) expect(result.stdout + result.stderr).not.toContain(f);
  });

  it('verify drift posts a webhook message with the evidence and without the password', async () => {
    ws = probeWorkspace();
    const state = JSON.parse(readFileSync(ws.state, 'utf8')) as { smtp?: unknown };
    state.smtp = { basicAuthDefaultOff: true };
    writeFileSync(ws.state, JSON.stringify(state));
    const bodies: string[] = [];
    const hook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hook.address() as { port: number }).port;
      const result = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`, '--notify-webhook', 'env:HOOK'], { CANARY_PASSWORD, HOOK: `http://127.0.0.1:${port}/hook` });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toContain('basic authentication is disabled');
      for (const f of [...forms(CANARY_PASSWORD), ...forms(OTHER_PASSWORD)]) expect(bodies[0]).not.toContain(f);
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
