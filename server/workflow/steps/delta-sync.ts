import { domainStep } from '../../db/repos/domains.ts';
import { copyPass } from '../copy-pass.ts';
import { mirrorActions } from '../../mail/delta/mirror.ts';
import { groupwarePass } from '../groupware-pass.ts';
import { fromFiles, skippedForFiles } from '../file-source.ts';
import { done, waitUntil, type Step } from '../types.ts';

export const deltaSync: Step = {
  id: 'delta-sync',
  level: 'mailbox',
  title: 'Delta sync during the overlap window',
  async run(ctx) {
    if (fromFiles(ctx)) return skippedForFiles('no old server goes on receiving mail to sync');
    const dns = await domainStep(ctx.db, ctx.domain.id, 'dns-cutover');
    const switchedAt = dns?.completed_at ? Date.parse(dns.completed_at) : ctx.now();
    const windowEnd = switchedAt + ctx.options.overlapSeconds * 1000;
    const report = await copyPass(ctx);
    // Contacts, calendars and filters changed meanwhile follow the mail in every pass.
    await groupwarePass(ctx);
    const now = ctx.now();
    if (now < windowEnd) {
      const next = Math.min(windowEnd, now + ctx.options.deltaIntervalSeconds * 1000);
      return waitUntil(next, `pass copied ${report.copied} new messages; the overlap window closes ${new Date(windowEnd).toISOString()}`);
    }
    // The window is closed: one more pass that finds nothing proves nothing is still arriving.
    const mirrored = report.mirror ? mirrorActions(report.mirror) : 0;
    if (report.copied > 0 || mirrored > 0) return waitUntil(now, `pass copied ${report.copied} new messages and mirrored ${mirrored} source changes; running a last pass`);
    return done(`window closed, last pass clean (${ctx.mailbox.sync_passes} passes in all)`);
  },
};
