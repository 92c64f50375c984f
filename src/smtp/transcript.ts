/**
 * The probe's transcript, safe to keep: every client line of the AUTH exchange is replaced, and any
 * secret that still shows up anywhere (a server echoing it back, a library logging it) is blanked,
 * in the clear and base64-encoded.
 */

export const REDACTED = '<redacted>';

export class Transcript {
  private readonly lines: string[] = [];
  private inAuth = false;

  constructor(private readonly secrets: () => readonly string[]) {}

  client(line: string): void {
    const auth = /^AUTH\s+(\S+)/i.exec(line);
    if (auth) {
      this.inAuth = true;
      this.push(`C: AUTH ${auth[1]!.toUpperCase()} ${REDACTED}`);
      return;
    }
    this.push(this.inAuth ? `C: ${REDACTED}` : `C: ${line}`);
  }

  server(text: string): void {
    for (const line of text.split(/\r?\n/).filter((l) => l !== '')) {
      // The AUTH exchange ends with the first reply that is not a 334 challenge.
      if (this.inAuth && !/^334[ -]/.test(line)) this.inAuth = false;
      this.push(`S: ${line}`);
    }
  }

  note(text: string): void {
    this.push(`-- ${text}`);
  }

  toLines(): string[] {
    return [...this.lines];
  }

  private push(line: string): void {
    this.lines.push(redactSecrets(line, this.secrets()));
  }
}

/** Every form a secret could take on the wire: as is, base64, and inside AUTH PLAIN / XOAUTH2 blobs. */
export function secretForms(secret: string, user?: string): string[] {
  if (secret === '') return [];
  const forms = [secret, Buffer.from(secret, 'utf8').toString('base64')];
  if (user !== undefined) {
    forms.push(Buffer.from(`\u0000${user}\u0000${secret}`, 'utf8').toString('base64'));
    forms.push(Buffer.from(`user=${user}\u0001auth=Bearer ${secret}\u0001\u0001`, 'utf8').toString('base64'));
  }
  return forms.filter((f) => f.length >= 4);
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out;
}
