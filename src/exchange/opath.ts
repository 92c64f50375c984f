/**
 * The one OPATH filter the OAuth-senders step writes: a recipient scope of exactly one mailbox,
 * `PrimarySmtpAddress -eq '<address>'` (Microsoft Learn, "Role Based Access Control for Applications
 * in Exchange Online": New-ManagementScope -RecipientRestrictionFilter). The filter is a parameter
 * value (data, splatted), never script text; inside it, a string value is quoted with single quotes
 * and a single quote is doubled (about_Quoting_Rules; "Filterable properties for the
 * RecipientFilter parameter").
 */

/** A mail address the filter may carry: no quote games, no control characters, no whitespace. */
const FILTER_SAFE_ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export function isFilterSafeAddress(address: string): boolean {
  return address.length <= 320 && FILTER_SAFE_ADDRESS.test(address);
}

/** `PrimarySmtpAddress -eq '<address>'`, the address quoted by OPATH's rule (single quotes doubled). */
export function primarySmtpAddressFilter(address: string): string {
  if (!isFilterSafeAddress(address)) throw new Error(`not a mail address a recipient filter may carry: ${JSON.stringify(address)}`);
  return `PrimarySmtpAddress -eq '${address.replace(/'/g, "''")}'`;
}

const FILTER = /^\s*\(?\s*PrimarySmtpAddress\s+-eq\s+'((?:[^']|'')*)'\s*\)?\s*$/i;

/** The address of a `PrimarySmtpAddress -eq '…'` filter, or undefined for any other filter. */
export function addressOfFilter(filter: string): string | undefined {
  const match = FILTER.exec(filter);
  return match ? match[1]!.replace(/''/g, "'") : undefined;
}
