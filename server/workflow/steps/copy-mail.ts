import { formatBytes } from '../../errors.ts';
import { copyPass } from '../copy-pass.ts';
import { filesCopied, fromFiles } from '../file-source.ts';
import { done, type Step } from '../types.ts';

export const copyMail: Step = {
  id: 'copy-mail',
  level: 'mailbox',
  title: 'Copy the mail',
  async run(ctx) {
    if (fromFiles(ctx)) return filesCopied(ctx);
    const report = await copyPass(ctx);
    const refused = report.failed ? `, ${report.failed} failed: refused by the destination or unreadable on the source (see the skip list; verify counts them as unaccounted)` : '';
    const matched = report.matched ? `, ${report.matched} found already there` : '';
    return done(`${report.copied} of ${report.announced} messages (${formatBytes(report.bytes)}) copied in ${report.seconds.toFixed(1)} s, ${report.skipped} skipped${matched}${refused}`);
  },
};
