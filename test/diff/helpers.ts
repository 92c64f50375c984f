/** Playbook texts for diff tests: the same meaning written in different ways. */
export const BASE = `# yaml-language-server: $schema=./playbook.schema.json
apiVersion: exo-playbook/v1
name: smtp-auth-disable
change: CHG0042
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: certificate, appId: "\${env:EXO_APP_ID}", certificatePath: "\${env:EXO_CERT_PEM}", certificatePassword: "\${env:EXO_CERT_PASSWORD}" }
vars:
  allow: "\${file:allowlist.txt}"
steps:
  - id: usage
    uses: smtp-auth/usage
    with: { days: 7, notifyAddress: admin@contoso.com }
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: "\${vars.allow}", exclusive: true }
  - id: verify
    uses: smtp-auth/verify
`;

/** Same meaning: comments, key order, quoting and block style changed, a default spelled out. */
export const COSMETIC = `apiVersion: 'exo-playbook/v1'
# the change ticket
change: "CHG0042"
name: smtp-auth-disable
tenant:
  auth:
    certificatePassword: '\${env:EXO_CERT_PASSWORD}'
    certificatePath: '\${env:EXO_CERT_PEM}'
    appId: '\${env:EXO_APP_ID}'
    method: certificate
  organization: contoso.onmicrosoft.com
vars: { allow: '\${file:allowlist.txt}' }
steps:
  - uses: smtp-auth/usage
    id: usage
    with:
      notifyAddress: admin@contoso.com   # who gets the report
      days: 7
      reportType: SmtpCSReport
  - id: org
    uses: transport-config
    with:
      smtpClientAuthenticationDisabled: true
  - id: allow
    uses: smtp-auth/allowlist
    with:
      exclusive: true
      mailboxes: \${vars.allow}
  - id: verify
    uses: smtp-auth/verify
    with: {}
`;

export const ALLOWLIST = `# devices that still need SMTP AUTH
scanner@contoso.com
printer@contoso.com   # 3rd floor
`;

export const ALLOWLIST_CHANGED = `# devices that still need SMTP AUTH
scanner@contoso.com
crm@contoso.com
`;
