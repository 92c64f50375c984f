/**
 * The examples every command's --help ends with. One list, so a test (test/cli/help-examples.test.ts)
 * runs each of them as written, in order per command, in a folder made as EXAMPLE_FOLDER says, and
 * checks the exit code given here.
 */
import type { Command } from 'commander';

export interface Example {
  /** A shell command line, as a user types it (bash). */
  run: string;
  /** The exit code it ends with in the example folder. */
  exit: number;
  /** Why that exit code, for the reader. */
  why: string;
}

/** What the examples assume, said once in every help. */
export const EXAMPLE_FOLDER =
  'a folder holding tenant.json (`exo-playbook sim init tenant.json`), the shipped playbooks/ with the usage files `sim export-usage` writes, and an allowlist of mailboxes that exist';

const SIM = '--target sim:tenant.json';

/** By command path ("plan", "sim init"); the top level is "". */
export const EXAMPLES: Record<string, Example[]> = {
  '': [
    { run: `exo-playbook plan playbooks/smtp-auth-disable.yaml ${SIM}`, exit: 2, why: 'changes pending' },
    { run: `exo-playbook verify playbooks/smtp-auth-drift-check.yaml ${SIM}`, exit: 2, why: 'drift' },
  ],
  validate: [
    { run: 'exo-playbook validate playbooks/smtp-auth-disable.yaml', exit: 0, why: 'valid (unset sign-in variables are warnings)' },
    { run: 'exo-playbook validate playbooks/smtp-auth-usage.yaml playbooks/smtp-auth-drift-check.yaml --format json', exit: 0, why: 'every file valid' },
  ],
  plan: [
    { run: `exo-playbook plan playbooks/smtp-auth-disable.yaml ${SIM}`, exit: 2, why: 'changes pending (and senders that would break)' },
    { run: `exo-playbook plan playbooks/smtp-auth-disable.yaml ${SIM} --out plan.json`, exit: 2, why: 'the plan saved for apply --plan' },
    { run: `exo-playbook plan playbooks/smtp-auth-usage.yaml ${SIM} --format csv > senders.csv`, exit: 0, why: 'one line per sender; nothing to change' },
    { run: `exo-playbook plan playbooks/smtp-auth-usage.yaml ${SIM} --wide`, exit: 0, why: 'every table column, whatever the width' },
    { run: `exo-playbook plan playbooks/smtp-auth-audit.yaml ${SIM} --format html > plan.html`, exit: 2, why: 'a page to open in a browser' },
  ],
  apply: [
    { run: `exo-playbook apply playbooks/smtp-auth-disable.yaml ${SIM} --yes`, exit: 4, why: 'refused: senders would lose SMTP AUTH' },
    { run: `exo-playbook plan playbooks/smtp-auth-disable.yaml ${SIM} --accept-breakage all --out plan.json`, exit: 2, why: 'review this plan…' },
    { run: `exo-playbook apply playbooks/smtp-auth-disable.yaml ${SIM} --plan plan.json --accept-breakage all --yes`, exit: 0, why: '…then write exactly it, journaled, and verify' },
  ],
  verify: [
    { run: `exo-playbook verify playbooks/smtp-auth-drift-check.yaml ${SIM}`, exit: 2, why: 'drift' },
    { run: `exo-playbook verify playbooks/smtp-auth-drift-check.yaml ${SIM} --format junit > verify.xml`, exit: 2, why: 'for a CI test report' },
    { run: `exo-playbook verify playbooks/smtp-auth-usage.yaml ${SIM} --only usage`, exit: 0, why: 'only the usage step: exit 2 only for a new sender' },
  ],
  rollback: [
    { run: `exo-playbook apply playbooks/smtp-auth-disable.yaml ${SIM} --accept-breakage all --yes`, exit: 0, why: 'a run to undo' },
    { run: 'exo-playbook rollback "$(ls -d runs/*-smtp-auth-disable | tail -n 1)"', exit: 4, why: 'no terminal and no --yes: shows the rollback plan, writes nothing' },
    { run: 'exo-playbook rollback "$(ls -d runs/*-smtp-auth-disable | tail -n 1)" --yes', exit: 0, why: 'the recorded before-values restored' },
  ],
  diff: [
    { run: 'exo-playbook diff playbooks/smtp-auth-audit.yaml playbooks/smtp-auth-drift-check.yaml', exit: 2, why: 'they differ' },
    { run: 'exo-playbook diff --git HEAD playbooks --format markdown', exit: 0, why: 'nothing changed since the last commit' },
  ],
  explain: [
    { run: 'exo-playbook explain playbooks/smtp-auth-disable.yaml', exit: 0, why: 'every call each step may make (no connection)' },
    { run: `exo-playbook explain playbooks/smtp-auth-disable.yaml ${SIM}`, exit: 0, why: 'the writes the current plan needs' },
  ],
  probe: [
    { run: `PW=secret exo-playbook probe scanner@contoso.com --password-env PW ${SIM}`, exit: 0, why: 'a known answer (simulated: no network)' },
    { run: `PW=secret exo-playbook probe scanner@contoso.com --password-env PW ${SIM} --expect tenant-disabled`, exit: 2, why: 'not the expected answer' },
  ],
  sim: [{ run: 'exo-playbook sim show tenant.json', exit: 0, why: 'what the simulated tenant holds' }],
  'sim init': [
    { run: 'exo-playbook sim init demo.json', exit: 0, why: 'a 500-mailbox tenant' },
    { run: 'exo-playbook sim init big.json --mailboxes 20000 --seed 7 --force', exit: 0, why: 'a bigger one, the same every time' },
  ],
  fleet: [
    { run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' },
    { run: 'exo-playbook fleet plan fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml', exit: 2, why: 'changes pending in some tenant' },
  ],
  'fleet validate': [{ run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' }, { run: 'exo-playbook fleet validate fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml', exit: 0, why: 'every tenant valid' }],
  'fleet plan': [{ run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' }, { run: 'exo-playbook fleet plan fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --out plans/', exit: 2, why: 'the plans saved for approval once' }],
  'fleet apply': [
    { run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' },
    { run: 'exo-playbook fleet plan fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --out plans/', exit: 2, why: 'review these plans…' },
    { run: 'exo-playbook fleet apply fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --plan plans/ --yes', exit: 0, why: '…then write exactly them, per tenant' },
  ],
  'fleet verify': [{ run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' }, { run: 'exo-playbook fleet verify fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --format junit > fleet-verify.xml', exit: 2, why: 'drift in some tenant' }],
  'fleet rollback': [
    { run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' },
    { run: 'exo-playbook fleet apply fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --yes --result applied.json', exit: 0, why: 'a fleet run to undo' },
    { run: 'exo-playbook fleet rollback applied.json -i fleet/inventory.yaml --yes', exit: 0, why: 'every tenant restored' },
  ],
  'fleet merge': [
    { run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'a simulated fleet: inventory, tenants, allowlists, usage' },
    { run: 'exo-playbook fleet plan fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --shard 1/2 --result shard-1.json', exit: 2, why: 'one shard…' },
    { run: 'exo-playbook fleet plan fleet/smtp-auth-fleet.yaml -i fleet/inventory.yaml --shard 2/2 --result shard-2.json', exit: 2, why: '…and the other' },
    { run: 'exo-playbook fleet merge shard-1.json shard-2.json --format markdown', exit: 2, why: 'one report, as one run' },
  ],
  'sim init-fleet': [{ run: 'exo-playbook sim init-fleet fleet --tenants 3 --mailboxes 50', exit: 0, why: 'three tenants and an inventory for fleet runs' }],
  'sim show': [{ run: 'exo-playbook sim show tenant.json --format json', exit: 0, why: 'its summary as JSON' }],
  'sim export-usage': [
    { run: 'exo-playbook sim export-usage tenant.json --out clients.csv', exit: 0, why: 'the SMTP AUTH clients report' },
    { run: 'exo-playbook sim export-usage tenant.json --kind request-report --out SmtpCSReport-new.csv', exit: 0, why: 'the per-message request report' },
  ],
};

export function examplesText(path: string): string {
  const examples = EXAMPLES[path] ?? [];
  if (!examples.length) return '';
  const width = Math.max(...examples.map((e) => e.run.length));
  return [
    '',
    `Examples (they run as written in ${EXAMPLE_FOLDER}; without --target a command signs in to Exchange Online):`,
    ...examples.map((e) => `  ${e.run.padEnd(width)}   # exit ${e.exit}: ${e.why}`),
  ].join('\n');
}

/** Appends each command's examples to its help, last (after every other help text). */
export function addExamples(command: Command, path = ''): void {
  const text = examplesText(path);
  if (text) command.addHelpText('after', text);
  for (const sub of command.commands) addExamples(sub, path ? `${path} ${sub.name()}` : sub.name());
}
