/**
 * Checks the schema cannot express, run on the resolved, located tree (so they work even when the
 * schema found problems too, and every finding has a place): duplicate step ids, mailbox address
 * syntax and hostile characters, the same mailbox twice in one list, write cmdlets without allowWrite.
 */
import type { SourceLocation } from '../errors.js';
import { addressProblem } from './addresses.js';
import { child, stringAt, type Located, type PathSegment } from './located.js';
import { pathToString, type Problem } from './problems.js';

export interface SemanticResult {
  problems: Problem[];
  /** Lower-cased allowlisted address → every place it was written. */
  origins: Map<string, SourceLocation[]>;
}

export function checkSemantics(root: Located): SemanticResult {
  const problems: Problem[] = [];
  const origins = new Map<string, SourceLocation[]>();
  const problem = (location: SourceLocation, message: string, at: PathSegment[], hint?: string) =>
    problems.push({ location, message, path: pathToString(at), ...(hint ? { hint } : {}) });

  const checkAddressList = (list: Located | undefined, at: PathSegment[], recordOrigins: boolean, alias = false) => {
    if (list?.kind !== 'seq') return;
    const firstSeen = new Map<string, SourceLocation>();
    list.items.forEach((item, index) => {
      const address = stringAt(item);
      if (address === undefined) return;
      checkAddress(item, address, [...at, index], alias);
      const key = address.toLowerCase();
      if (recordOrigins) origins.set(key, [...(origins.get(key) ?? []), item.loc]);
      const first = firstSeen.get(key);
      if (first) {
        const firstAt = first.file === item.loc.file ? `line ${first.line}:${first.col}` : `${first.file}:${first.line}:${first.col}`;
        problem(item.loc, `\`${address}\` is listed twice (first at ${firstAt})`, [...at, index], 'remove one of them');
      } else {
        firstSeen.set(key, item.loc);
      }
    });
  };
  const checkAddress = (node: Located, address: string, at: PathSegment[], alias = false) => {
    const why = addressProblem(address, { alias });
    if (why) problem(node.loc, `invalid mailbox ${alias ? 'address or alias' : 'address'} ${JSON.stringify(address)}: it ${why}`, at, alias ? 'write one address (user@contoso.com), UPN or alias a line' : 'write one address such as user@contoso.com');
  };

  checkAddressList(child(root, 'acceptBreakage'), ['acceptBreakage'], false);

  const steps = child(root, 'steps');
  const stepIds = new Map<string, SourceLocation>();
  if (steps?.kind === 'seq') {
    steps.items.forEach((step, index) => {
      const at: PathSegment[] = ['steps', index];
      const idNode = child(step, 'id');
      const id = stringAt(idNode);
      if (id !== undefined && idNode) {
        const first = stepIds.get(id);
        if (first) problem(idNode.loc, `duplicate step id \`${id}\` (first at line ${first.line}:${first.col})`, [...at, 'id'], 'step ids name journal entries and plan changes; make each one unique');
        else stepIds.set(id, idNode.loc);
      }
      const uses = stringAt(child(step, 'uses'));
      const withBlock = child(step, 'with');
      switch (uses) {
        case 'smtp-auth/allowlist':
          checkAddressList(child(withBlock, 'mailboxes'), [...at, 'with', 'mailboxes'], true, true);
          break;
        case 'smtp-auth/verify':
          checkAddressList(child(withBlock, 'mailboxes'), [...at, 'with', 'mailboxes'], false, true);
          break;
        case 'smtp-auth/oauth-senders': {
          // The same app twice would grant and prove it twice, with two display names to choose from.
          const apps = child(withBlock, 'applications');
          const seenApps = new Map<string, SourceLocation>();
          if (apps?.kind === 'seq') {
            apps.items.forEach((app, i) => {
              const appAt: PathSegment[] = [...at, 'with', 'applications', i];
              checkAddressList(child(app, 'mailboxes'), [...appAt, 'mailboxes'], false, true);
              const appIdNode = child(app, 'appId');
              const appId = stringAt(appIdNode)?.toLowerCase();
              if (appId === undefined || !appIdNode) return;
              const first = seenApps.get(appId);
              if (first) problem(appIdNode.loc, `app ${appId} is declared twice (first at line ${first.line}:${first.col})`, [...appAt, 'appId'], 'declare each app once and list all its mailboxes there');
              else seenApps.set(appId, appIdNode.loc);
            });
          }
          break;
        }
        case 'smtp-auth/usage': {
          const notify = child(withBlock, 'notifyAddress');
          const notifyAt = [...at, 'with', 'notifyAddress'];
          if (notify?.kind === 'seq') checkAddressList(notify, notifyAt, false);
          else if (notify && stringAt(notify) !== undefined) checkAddress(notify, stringAt(notify)!, notifyAt);
          break;
        }
        case 'powershell': {
          const cmdletNode = child(withBlock, 'cmdlet');
          const cmdlet = stringAt(cmdletNode);
          const allowWrite = child(withBlock, 'allowWrite');
          const writes = cmdlet !== undefined && !/^Get-/i.test(cmdlet);
          if (cmdletNode && writes && !(allowWrite?.kind === 'scalar' && allowWrite.value === true)) {
            problem(cmdletNode.loc, `\`${cmdlet}\` is not a Get-* cmdlet, so it may write`, [...at, 'with', 'cmdlet'], 'add `allowWrite: true` to the step if that is intended');
          }
          break;
        }
      }
    });
  }
  return { problems, origins };
}
