/**
 * The SMTP adapter's contract: what a probe asks for and what it brings back. The smtp-auth/probe
 * step and the `probe` command use only this; `client.ts` talks to a real server (nodemailer's
 * SMTPConnection), `simulated.ts` answers from a simulated tenant's state file.
 *
 * A probe connects the way a device does (EHLO, STARTTLS, EHLO, AUTH), then QUITs. It never sends
 * MAIL FROM: nothing is ever submitted.
 */

/** How the probe authenticates. LOGIN and PLAIN are Basic; XOAUTH2 carries an OAuth access token. */
export type ProbeMechanism = 'LOGIN' | 'PLAIN' | 'XOAUTH2';

/**
 * Where a probe's secret comes from. References stay references until the moment of AUTH, so no
 * plan, journal, report or event ever holds the secret itself.
 */
export type ProbeSecret =
  /** A `${env:NAME}` / `${file:path}` reference to a password (Basic) or an access token (XOAUTH2). */
  | { kind: 'reference'; reference: string }
  /** XOAUTH2 with a token for https://outlook.office365.com/.default from the playbook's tenant.auth credential. */
  | { kind: 'tenant-credential' };

export interface ProbeRequest {
  host: string;
  port: number;
  /** The canary mailbox the probe signs in as. */
  mailbox: string;
  mechanism: ProbeMechanism;
  secret: ProbeSecret;
  /** PEM file of extra trusted CAs (tests); the system's CAs are used as well as this one. */
  caFile?: string;
  timeoutMs: number;
  /** The name sent with EHLO. */
  clientName: string;
}

/** How far the conversation got before it ended. */
export type ProbeStage = 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'auth' | 'done';

/** What the server (or the network) answered: raw facts, classified by classify.ts. */
export interface ProbeAnswer {
  stage: ProbeStage;
  /** The server's last reply line, exactly as received (multi-line replies: the last line). null when none. */
  serverLine: string | null;
  /** A transport failure, normalised (client.ts): DNS, CONNECT, TIMEOUT, TLS, or the code as is. null when the server answered. */
  failure: { code: string; message: string } | null;
  /**
   * The asked mechanism was not among those EHLO advertised after STARTTLS (RFC 4954 section 3), so
   * AUTH was never sent: the probe refuses rather than try another mechanism. null otherwise.
   */
  notOffered: { mechanism: ProbeMechanism; offered: string[] } | null;
  /** The conversation, AUTH lines replaced (transcript.ts). */
  transcript: string[];
  /** When the AUTH answer came (ISO-8601 UTC), from the prober's clock. */
  at: string;
}

export interface SmtpProber {
  /** "smtp" (a real server) or "simulator" (a simulated tenant's state). */
  readonly kind: 'smtp' | 'simulator';
  probe(request: ProbeRequest, signal?: AbortSignal): Promise<ProbeAnswer>;
}

/** The Microsoft 365 client-submission endpoints (EXCHANGE-FACTS "What a mail client sees"). */
export const OFFICE365_SUBMISSION_HOST = 'smtp.office365.com';
export const OFFICE365_LEGACY_SUBMISSION_HOST = 'smtp-legacy.office365.com';
export const SUBMISSION_PORT = 587;
