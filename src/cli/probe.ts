/**
 * `exo-playbook probe <mailbox>`: one SMTP AUTH probe, for one-off use (the smtp-auth/probe step is
 * the scheduled form). Connects, EHLO, STARTTLS, EHLO, AUTH, QUIT; never MAIL FROM. Secrets come from
 * an environment variable or a file, never from the command line. The redacted transcript and the
 * result are written to a run directory.
 * Exit 0: a known answer (and, with --expect, the expected one); 2: not what --expect says; 1: error,
 * an answer this tool does not know (reported verbatim), no server reached (DNS, connect, timeout,
 * TLS; also with --expect: that is no answer, so never drift), or a mechanism the server does not offer.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ExitCode, InputError, SessionError } from '../errors.js';
import { PROBE_OUTCOMES, type ProbeOutcome } from '../smtp/classify.js';
import type { ProbeMechanism, ProbeRequest, ProbeSecret } from '../smtp/types.js';
import { OFFICE365_SUBMISSION_HOST, SUBMISSION_PORT } from '../smtp/types.js';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { withOptions } from './engine-support.js';
import { wholeNumber } from './options.js';

interface ProbeFlags {
  target: string;
  format: string;
  runsDir: string;
  auth: 'basic' | 'basic-plain' | 'oauth';
  passwordEnv?: string;
  passwordFile?: string;
  tokenEnv?: string;
  tokenFile?: string;
  host: string;
  port: number;
  caFile?: string;
  timeout: number;
  expect?: string[];
}

/** What --expect may name (`unknown` never: an unknown answer never matches). Same list as the step's `expect:`. */
const EXPECTATIONS = PROBE_OUTCOMES.filter((o) => o !== 'unknown');

const MECHANISM: Record<ProbeFlags['auth'], ProbeMechanism> = { basic: 'LOGIN', 'basic-plain': 'PLAIN', oauth: 'XOAUTH2' };

export function registerProbe(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('probe')
    .argument('<mailbox>', 'the canary mailbox to sign in as (its user principal name)')
    .description('sign in to SMTP submission as a canary mailbox the way a device does (never sending mail) and report the exact answer')
    .addHelpText(
      'after',
      `
Against Exchange Online (network): probe smtp-canary@contoso.com --password-env CANARY_PASSWORD --expect accepted,
--password-file /etc/exo-playbook/canary.secret --host smtp-legacy.office365.com, or --auth oauth --token-env SMTP_TOKEN.

The conversation: EHLO, STARTTLS (certificate verified), EHLO, AUTH, QUIT. MAIL FROM is never sent.
Only a mechanism the server advertises after STARTTLS is tried (smtp.office365.com: AUTH LOGIN
XOAUTH2, so --auth basic-plain is refused there, exit 1). The answer is classified (accepted,
tenant-disabled, mailbox-disabled, basic-auth-blocked, security-defaults, conditional-access,
bad-credentials, basic-retired, mechanism-refused) with the server's exact line as evidence;
anything else is reported verbatim as unknown. No server reached (DNS, connect, timeout, TLS) is
an error, exit 1, never a finding. The password or
token is read from the variable or file at AUTH and never printed; the transcript in the run
directory has its AUTH lines replaced. Exit 0: a known answer (the expected one with --expect);
2: not what --expect says; 1: error, no answer, or an unknown answer without --expect.`,
    )
    .addOption(new Option('--auth <kind>', 'basic (AUTH LOGIN), basic-plain (AUTH PLAIN) or oauth (XOAUTH2)').choices(['basic', 'basic-plain', 'oauth']).default('basic'))
    .addOption(new Option('--password-env <NAME>', 'Basic: the environment variable holding the canary password'))
    .addOption(new Option('--password-file <file>', 'Basic: a file holding the canary password'))
    .addOption(new Option('--token-env <NAME>', 'OAuth: the environment variable holding the access token'))
    .addOption(new Option('--token-file <file>', 'OAuth: a file holding the access token'))
    .addOption(new Option('--host <host>', `submission host (${OFFICE365_SUBMISSION_HOST} or smtp-legacy.office365.com)`).default(OFFICE365_SUBMISSION_HOST))
    .addOption(new Option('--port <n>', 'submission port (STARTTLS)').default(SUBMISSION_PORT).argParser(portNumber))
    .addOption(new Option('--ca-file <file>', 'a PEM file of extra CA certificates to trust (tests)'))
    .addOption(new Option('--timeout <seconds>', 'how long each network step may take').default(30).argParser(seconds))
    .addOption(
      new Option('--expect <outcomes>', `what the probe should find, comma-separated (${EXPECTATIONS.join(', ')})`).argParser((v, prev: string[] = []) => [
        ...prev,
        ...v.split(',').map((s) => s.trim()).filter(Boolean),
      ]),
    );
  withOptions(command, ['target', 'format', 'runsDir'], ['text', 'json']).action(
    wrap(async (mailbox: string, flags: ProbeFlags) => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mailbox)) throw new InputError(`probe: "${mailbox}" is not a mailbox address`, undefined, 'give the canary as name@domain');
      const expected = (flags.expect ?? []).map((e): ProbeOutcome => {
        if (!(EXPECTATIONS as readonly string[]).includes(e)) throw new InputError(`--expect ${e}: not an outcome`, undefined, `use ${EXPECTATIONS.join(', ')}`);
        return e as ProbeOutcome;
      });
      const mechanism = MECHANISM[flags.auth];
      const request: ProbeRequest = {
        host: flags.host,
        port: flags.port,
        mailbox,
        mechanism,
        secret: secretOf(flags, mechanism, io.cwd),
        ...(flags.caFile ? { caFile: resolve(io.cwd, flags.caFile) } : {}),
        timeoutMs: flags.timeout * 1000,
        clientName: 'exo-playbook-probe',
      };
      // Loaded on use: `--help` and the other commands never load the SMTP client.
      const [{ openProber }, { classifyAnswer, notAnAnswer }, { createRunDir, writeRunFile }, { renderJson }] = await Promise.all([
        import('../smtp/open.js'),
        import('../smtp/classify.js'),
        import('../engine/rundir.js'),
        import('../report/json.js'),
      ]);
      const prober = await openProber(normalizeProbeTarget(flags.target, io.cwd), { env: io.env, baseDir: io.cwd });
      const answer = await prober.probe(request);
      const classified = classifyAnswer(answer);
      const runDir = createRunDir(resolve(io.cwd, flags.runsDir), 'probe', new Date());
      writeRunFile(runDir, 'transcript.txt', `${answer.transcript.join('\n')}\n`);
      if (classified.kind !== 'answer') {
        // Not an answer about the tenant: an error whatever --expect says, never drift.
        const { message, hint } = notAnAnswer(classified, `${flags.host}:${flags.port}`);
        writeRunFile(runDir, 'result.json', renderJson({ mailbox, endpoint: `${flags.host}:${flags.port}`, target: prober.kind, error: message, evidence: classified.evidence, probedAt: answer.at, runDir }));
        if (classified.kind === 'unreachable') throw new SessionError(`probe: ${message}; ${hint} (transcript: ${resolve(runDir, 'transcript.txt')})`);
        throw new InputError(`probe --auth ${flags.auth}: ${message}`, undefined, hint);
      }
      const matches = expected.length === 0 ? classified.outcome !== 'unknown' : expected.includes(classified.outcome);
      const result = {
        mailbox,
        auth: mechanism === 'XOAUTH2' ? 'OAuth (XOAUTH2)' : `Basic (AUTH ${mechanism})`,
        endpoint: `${flags.host}:${flags.port}`,
        target: prober.kind,
        outcome: classified.outcome,
        meaning: classified.meaning,
        evidence: classified.evidence,
        expected,
        matches,
        probedAt: answer.at,
        runDir,
      };
      writeRunFile(runDir, 'result.json', renderJson(result));
      if (flags.format === 'json') io.stdout.write(renderJson(result));
      else {
        io.stdout.write(
          [
            `probe ${mailbox}: ${result.auth} at ${result.endpoint}${prober.kind === 'simulator' ? ' (simulated)' : ''}`,
            `  found:      ${classified.outcome}: ${classified.meaning}`,
            `  evidence:   ${classified.evidence}`,
            ...(expected.length > 0 ? [`  expected:   ${expected.join(' or ')}${matches ? ' (as expected)' : ' -> DRIFT'}`] : []),
            `  transcript: ${resolve(runDir, 'transcript.txt')}`,
            '',
          ].join('\n'),
        );
      }
      if (classified.outcome === 'unknown' && expected.length === 0) {
        io.stderr.write('error: the server gave an answer this tool does not know (shown verbatim above); it is not guessed\n');
        return ExitCode.error;
      }
      return matches ? ExitCode.ok : ExitCode.changesOrDrift;
    }),
  );
}

function secretOf(flags: ProbeFlags, mechanism: ProbeMechanism, cwd: string): ProbeSecret {
  const oauth = mechanism === 'XOAUTH2';
  const [envName, file, kind] = oauth ? [flags.tokenEnv, flags.tokenFile, 'token'] : [flags.passwordEnv, flags.passwordFile, 'password'];
  const wrong = oauth ? flags.passwordEnv ?? flags.passwordFile : flags.tokenEnv ?? flags.tokenFile;
  if (wrong !== undefined) throw new InputError(`probe --auth ${flags.auth}: ${oauth ? '--password-*' : '--token-*'} does not apply`, undefined, `give the ${kind} with --${kind}-env or --${kind}-file`);
  if ((envName === undefined) === (file === undefined)) {
    throw new InputError(`probe --auth ${flags.auth} needs exactly one of --${kind}-env NAME or --${kind}-file FILE`, undefined, `secrets never go on the command line: export it, or put it in a file only you can read`);
  }
  if (envName !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) throw new InputError(`--${kind}-env ${envName}: not an environment variable name`);
    return { kind: 'reference', reference: `\${env:${envName}}` };
  }
  return { kind: 'reference', reference: `\${file:${resolve(cwd, file!)}}` };
}

function normalizeProbeTarget(target: string, cwd: string): string {
  if (target === 'exchange') return target;
  if (target.startsWith('sim:') && target.length > 4) return `sim:${resolve(cwd, target.slice(4))}`;
  throw new InputError(`--target ${target} is not a target`, undefined, 'use --target exchange or --target sim:<state.json>');
}

const portNumber = wholeNumber('--port', 1, 65535);
const seconds = wholeNumber('--timeout', 1, 300, 'seconds');
