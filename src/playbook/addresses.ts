/**
 * Is this a mailbox address we will hand to Exchange? Deliberately stricter than RFC 5321: the
 * values end up as cmdlet parameters, so anything that looks like shell or PowerShell syntax is
 * refused with a message that says what is wrong, even though parameters are bound from data.
 */

const LOCAL_PART = /^[A-Za-z0-9!#%&*+/=?^_{|}~.-]+$/;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]$/;

/** Why the address is not acceptable, or undefined when it is. */
export function addressProblem(address: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(address)) return 'contains a control character (a newline or tab?)';
  if (/\$\(/.test(address)) return 'contains `$(`, which looks like a subexpression';
  if (address.includes('`')) return 'contains a backtick';
  if (/["']/.test(address)) return 'contains a quote';
  if (address.includes(';')) return 'contains a semicolon';
  if (/\s/.test(address)) return 'contains a space';
  if (address.length > 320) return 'is longer than 320 characters';
  const at = address.lastIndexOf('@');
  if (at < 0) return 'has no @';
  if (address.indexOf('@') !== at) return 'has more than one @';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length === 0) return 'has nothing before the @';
  if (local.length > 64) return 'has a local part longer than 64 characters';
  if (!LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `has an invalid local part \`${local}\``;
  }
  if (!DOMAIN.test(domain)) return `has an invalid domain \`${domain}\` (expected e.g. contoso.com)`;
  return undefined;
}

export function isValidAddress(address: string): boolean {
  return addressProblem(address) === undefined;
}
