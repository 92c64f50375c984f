/**
 * Is this a mailbox address (or alias) Exchange Online can hold? Every legal form is accepted and
 * only what cannot be one is refused, with the reason:
 * - local part: RFC 5322 dot-atom, i.e. letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~,
 *   dots not leading, trailing or doubled, at most 64 octets; plus non-ASCII characters (RFC 6531
 *   internationalised addresses, which Exchange Online accepts);
 * - domain: host names of letters, digits and hyphens, or internationalised (IDNA) labels, checked in
 *   their ASCII (punycode) form; no IP literals;
 * - an alias (allowlist and verify entries, as docs/PLAYBOOKS.md promises) is a valid local part
 *   alone; a UPN has the shape of an address.
 * Characters like ' or ` that a shell or PowerShell would treat specially stay data: the bridge
 * binds every parameter from data, never from script text (docs/PWSH-BRIDGE.md).
 */
import { domainToASCII } from 'node:url';

/** RFC 5322 atext (ASCII part). */
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]$/;
/** A UTF-16 surrogate without its pair: not a character at all. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export interface AddressOptions {
  /** Also accept an alias (a mailbox's Alias, without @): allowlist and verify entries. */
  alias?: boolean;
}

function localPartProblem(local: string, what: string): string | undefined {
  if (local.length === 0) return `has nothing before the @`;
  if (Buffer.byteLength(local, 'utf8') > 64) return `has ${what} longer than 64 bytes`;
  if (local.startsWith('.') || local.endsWith('.')) return `has ${what} that starts or ends with a dot`;
  if (local.includes('..')) return `has ${what} with two dots in a row`;
  for (const char of local) {
    if (char === '.' || ATEXT.test(char)) continue;
    if (char.codePointAt(0)! >= 0xa0) continue; // non-ASCII (controls and spaces were refused before)
    return `has ${what} with \`${char}\`, which an address cannot contain unquoted`;
  }
  return undefined;
}

function domainProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'has nothing after the @';
  if (domain.startsWith('[')) return 'has an IP-literal domain, which Exchange Online does not accept';
  const ascii = domainToASCII(domain);
  if (ascii === '' || ascii.length > 253) return `has an invalid domain \`${domain}\` (expected e.g. contoso.com)`;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label)) || /^[0-9]+$/.test(labels.at(-1)!)) {
    return `has an invalid domain \`${domain}\` (expected e.g. contoso.com)`;
  }
  return undefined;
}

/** Why the value is not an acceptable address (or alias), or undefined when it is. */
export function addressProblem(address: string, options: AddressOptions = {}): string | undefined {
  if (LONE_SURROGATE.test(address)) return 'contains a broken character (a lone UTF-16 surrogate)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(address)) return 'contains a control character (a newline or tab?)';
  if (/\s/u.test(address)) return 'contains a space';
  if (/\p{Cf}/u.test(address)) return 'contains an invisible formatting character (zero-width or direction mark)';
  if (address.length > 254) return 'is longer than 254 characters';
  const at = address.lastIndexOf('@');
  if (at < 0) {
    if (!options.alias) return 'has no @';
    const why = localPartProblem(address, 'an alias');
    return why ? why.replace('has an alias', 'is an alias') : undefined;
  }
  if (address.indexOf('@') !== at) return 'has more than one @';
  const local = address.slice(0, at);
  if (local.startsWith('"')) return 'has a quoted local part, which Exchange Online does not accept';
  return localPartProblem(local, 'a local part') ?? domainProblem(address.slice(at + 1));
}

export function isValidAddress(address: string, options: AddressOptions = {}): boolean {
  return addressProblem(address, options) === undefined;
}
