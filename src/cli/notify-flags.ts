/** --notify-mail and its relay options, as notifyAfter takes them. */
import { InputError } from '../errors.js';
import type { MailSpec } from '../engine/notify-mail.js';

export interface MailFlags {
  notifyMail?: string[];
  notifySmtp?: string;
  notifySmtpPassword?: string;
  notifyMailFrom?: string;
}

export function mailSpec(flags: MailFlags): { mail?: MailSpec } {
  if (!flags.notifyMail) {
    if (flags.notifySmtp || flags.notifySmtpPassword || flags.notifyMailFrom) throw new InputError('--notify-smtp, --notify-smtp-password and --notify-mail-from go with --notify-mail <addresses>');
    return {};
  }
  if (!flags.notifySmtp) throw new InputError('--notify-mail needs --notify-smtp <smtp://[user@]relay:587>');
  return {
    mail: {
      to: flags.notifyMail,
      relay: flags.notifySmtp,
      ...(flags.notifySmtpPassword !== undefined ? { password: flags.notifySmtpPassword } : {}),
      ...(flags.notifyMailFrom !== undefined ? { from: flags.notifyMailFrom } : {}),
    },
  };
}
