/**
 * A generated simulated tenant of any size with the shipped disable playbook next to it (allowlist
 * and SMTP AUTH clients report CSV included, as the demo writes them), and the CLI run in-process
 * without a TTY: what the report tests render and validate.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/io.js';
import { generateTenant } from '../../src/exchange/simulator/generate.js';
import { clientsReportCsv, requestReportCsv } from '../../src/exchange/simulator/usage-export.js';
import { writeStateFile } from '../../src/exchange/simulator/state-file.js';

const PLAYBOOKS = resolve(import.meta.dirname, '..', '..', 'playbooks');

export interface ReportWorkspace {
  dir: string;
  /** `--target sim:<state>` */
  target: string[];
  cleanup(): void;
}

export async function reportWorkspace(mailboxes: number, seed = 'report-workspace', faults: Record<string, number> = {}): Promise<ReportWorkspace> {
  const dir = mkdtempSync(join(tmpdir(), 'exo-report-'));
  for (const f of readdirSync(PLAYBOOKS)) copyFileSync(join(PLAYBOOKS, f), join(dir, f));
  const state = generateTenant({
    mailboxes,
    seed,
    orgSmtpAuthDisabled: false,
    explicitEnabled: Math.max(12, Math.floor(mailboxes / 50)),
    activeSenders: Math.max(9, Math.floor(mailboxes / 50)),
    clock: '2026-11-23T10:00:00.000Z',
  });
  state.faults = { ...state.faults, ...faults };
  await writeStateFile(join(dir, 'tenant.json'), state);
  const explicitFalse = new Set(state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === false).map((m) => m.PrimarySmtpAddress.toLowerCase()));
  const allowlisted = [...new Set(state.smtpAuthActivity.map((a) => a.sender.toLowerCase()))].filter((s) => explicitFalse.has(s)).slice(0, 25);
  writeFileSync(join(dir, 'allowlist.example.txt'), ['# devices', ...allowlisted, ''].join('\n'));
  // The clients report as `sim export-usage` writes it (the admin center's header, no date column).
  writeFileSync(join(dir, 'smtp-auth-clients-report.csv'), clientsReportCsv(state, 30));
  // The shipped usage playbook also reads the request report, as `sim export-usage` writes it.
  writeFileSync(join(dir, 'SmtpCSReport.csv'), requestReportCsv(state, 30));
  return { dir, target: ['--target', `sim:${join(dir, 'tenant.json')}`], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in-process, no colour; no TTY unless `answer` is given (then it is what the user types at the prompt). */
export async function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, answer?: string): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const io: CliIO = { stdout, stderr, stdin: Readable.from(answer === undefined ? [] : [answer]), color: false, interactive: answer !== undefined, env, cwd };
  const code = await run(args, io);
  return { code, stdout: out, stderr: err };
}
