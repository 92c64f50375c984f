/**
 * The proof on a `sim:` target without a `proof:` block: the simulated tenant plays Entra and the
 * submission endpoint (src/exchange/simulator/oauth.ts), read from its state file at each step, so an
 * apply that grants shows "OAuth proven" with nothing but Node (the demo), and a missing consent, an
 * unknown app or a wrong secret fail as they would. It plugs into proveSenders' two seams: how a
 * token is obtained, and who answers AUTH.
 */
import type { AccessToken } from '@azure/identity';
import { readStateFile } from '../../../exchange/simulator/state-file.js';
import { simulatedToken, xoauth2Verdict, type Xoauth2Verdict } from '../../../exchange/simulator/oauth.js';
import type { ProbeAnswer, ProbeRequest, SmtpProber } from '../../../smtp/types.js';
import type { RunContext } from '../../types.js';
import type { ProveOptions } from './proof.js';

const DEFAULT_SERVER = 'SIM01CA0001.namprd01.prod.outlook.com';

/** Exchange's final AUTH lines (EXCHANGE-FACTS "What a mail client sees"), with the server trailer. */
function line(verdict: Xoauth2Verdict, trailer: string): string {
  switch (verdict) {
    case 'accepted':
      return '235 2.7.0 Authentication successful';
    case 'bad-credentials':
      return `535 5.7.3 Authentication unsuccessful ${trailer}`;
    case 'mailbox-disabled':
      return `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. ${trailer}`;
    case 'tenant-disabled':
      return `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. ${trailer}`;
  }
}

class SimulatedXoauth2Prober implements SmtpProber {
  readonly kind = 'simulator' as const;
  constructor(
    private readonly stateFile: string,
    private readonly token: string,
    private readonly now: () => Date,
  ) {}

  async probe(request: ProbeRequest): Promise<ProbeAnswer> {
    const state = await readStateFile(this.stateFile);
    const at = this.now().toISOString();
    const serverLine = line(xoauth2Verdict(state, request.mailbox, this.token), `[${state.smtp?.server ?? DEFAULT_SERVER} ${at}]`);
    return { stage: serverLine.startsWith('235') ? 'done' : 'auth', serverLine, failure: null, notOffered: null, transcript: ['(simulated XOAUTH2 sign-in)'], at };
  }
}

export function simulatedProof(stateFile: string, ctx: RunContext): Pick<ProveOptions, 'credentialFactory' | 'openProber'> {
  return {
    credentialFactory: async (app, secret, tenantId) => ({
      getToken: async (): Promise<AccessToken> => {
        const issued = simulatedToken(await readStateFile(stateFile), app.appId, secret.clientSecret, tenantId, ctx.now());
        if ('error' in issued) throw new Error(issued.error);
        return { token: issued.token, expiresOnTimestamp: ctx.now().getTime() + 3_599_000 };
      },
    }),
    openProber: async (token) => new SimulatedXoauth2Prober(stateFile, token, () => ctx.now()),
  };
}
