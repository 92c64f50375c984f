/**
 * `exo-playbook verify <playbook>`: read-only; does the tenant match the playbook?
 * Exit 0 compliant, 2 drift, 1 error.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { runVerify } from '../engine/run-plan.js';
import { notifyAfter, type WebhookFormat } from '../engine/notify.js';
import { mailSpec, type MailFlags } from './notify-flags.js';
import type { CliIO } from './io.js';
import { loadCompare } from './compare.js';
import type { Wrap } from './program.js';
import { engineDeps, renderVerify, sinksFor, withOptions, type CommonFlags } from './engine-support.js';

export function registerVerify(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('verify')
    .argument('<playbook>', 'the playbook YAML file')
    .description('read-only: check that the tenant matches the playbook (junit output for CI)');
  withOptions(command, ['target', 'format', 'logFile', 'notifyWebhook', 'notifyFormat', 'notifyMail', 'notifySmtp', 'notifySmtpPassword', 'notifyMailFrom', 'maxChars', 'workloadIdentity', 'compare', 'wide', 'only'], ['text', 'markdown', 'json', 'junit', 'html', 'csv']).action(
    wrap(async (file: string, flags: CommonFlags & MailFlags & { notifyWebhook?: string; notifyFormat?: WebhookFormat; only?: string[] }) =>
      notifyAfter({ spec: flags.notifyWebhook, command: 'verify', playbookFile: file, env: io.env, warn: (l) => io.stderr.write(l), ...(flags.notifyFormat ? { format: flags.notifyFormat } : {}), ...mailSpec(flags), cwd: io.cwd }, async () => {
      const html = loadCompare(io.cwd, flags.compare, flags.format);
      const sinks = sinksFor(io, flags, { progress: true });
      try {
        const report = await runVerify({
          deps: await engineDeps(),
          playbookFile: resolve(io.cwd, file),
          target: flags.target,
          env: io.env,
          cwd: io.cwd,
          sinks: sinks.sinks,
          ...(flags.only ? { only: flags.only } : {}),
          onDeviceCode: (message) => io.stderr.write(`${message}\n`),
          ...(flags.workloadIdentity ? { auth: { method: 'workload-identity' as const, appId: flags.workloadIdentity } } : {}),
        });
        await sinks.settle();
        io.stdout.write(renderVerify(report, flags.format, io, flags.maxChars, html, flags.wide));
        return { exitCode: report.compliant ? ExitCode.ok : ExitCode.changesOrDrift, outcome: { playbook: report.playbook, tenant: report.tenant, verify: report } };
      } finally {
        await sinks.settle();
        sinks.close();
      }
    })),
  );
}
