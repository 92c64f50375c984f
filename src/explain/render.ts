/**
 * The printed script. Everything that is not a call is a `#` comment, so the whole output can be
 * saved and run in a session where Connect-ExchangeOnline has been done.
 */
import { explainLine, asRunnerSendsIt } from './calls.js';
import { cmdletsOf, type ExplainLine, type StepExplanation } from './general.js';

export interface ExplainHeader {
  playbook: string;
  change?: string | undefined;
  organization: string;
  /** undefined: no target (every call each step may make). */
  target?: string | undefined;
}

function comment(text: string): string {
  // A comment must stay one line: a newline in a value would start a line of code.
  return `# ${text.replace(/[\r\n]+/g, ' ')}`;
}

function lines(items: ExplainLine[]): string[] {
  return items.flatMap((item) => ('call' in item ? [...(item.comment ? [comment(item.comment)] : []), explainLine(item.call)] : [comment(item.comment)]));
}

export function renderExplainText(header: ExplainHeader, steps: StepExplanation[]): string {
  const out = [
    comment(`exo-playbook explain ${header.playbook}${header.change ? ` (change ${header.change})` : ''}, tenant ${header.organization}`),
    comment(
      header.target
        ? `the writes apply would make now on ${header.target}, exactly as sent`
        : 'every call each step may make: reads always, writes only where the tenant differs',
    ),
    comment('values are literals; run in a session connected with Connect-ExchangeOnline'),
  ];
  for (const step of steps) {
    if (header.target && step.writes.length === 0) continue;
    out.push('', comment(`step ${step.stepId} (${step.uses})`));
    if (!header.target) out.push(...(step.reads.length ? [comment('reads:'), ...lines(step.reads)] : []), ...(step.writes.length ? [comment('writes:')] : []));
    out.push(...lines(step.writes));
    if (!header.target && step.rollbackReads?.length) out.push(comment('rollback of these writes re-reads (before and after restoring):'), ...lines(step.rollbackReads).map((l) => (l.startsWith('#') ? l : `# ${l}`)));
  }
  if (header.target && steps.every((s) => s.writes.length === 0)) out.push('', comment('nothing to write: the tenant is already as the playbook says'));
  if (!header.target) {
    out.push('', comment(`cmdlets a run of this playbook may make (plan, apply, verify, rollback; sign-in aside): ${cmdletsOf(steps).join(', ')}`));
  }
  return out.join('\n') + '\n';
}

/** JSON: each call with its printed line and the parameters as sent (Confirm included). */
export function explainJson(header: ExplainHeader, steps: StepExplanation[]): unknown {
  const json = (items: ExplainLine[]) =>
    items.map((item) => ('call' in item ? { ...asRunnerSendsIt(item.call), line: explainLine(item.call), ...(item.comment ? { comment: item.comment } : {}) } : { comment: item.comment }));
  return {
    ...header,
    ...(header.target ? {} : { cmdlets: cmdletsOf(steps) }),
    steps: steps.map((s) => ({
      stepId: s.stepId,
      uses: s.uses,
      reads: json(s.reads),
      writes: json(s.writes),
      ...(header.target ? {} : { rollbackReads: json(s.rollbackReads ?? []) }),
    })),
  };
}
