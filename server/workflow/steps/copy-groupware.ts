import { summarise } from '../../groupware/index.ts';
import { groupwarePass } from '../groupware-pass.ts';
import { fromFiles, skippedForFiles } from '../file-source.ts';
import { done, type Step } from '../types.ts';

export const copyGroupware: Step = {
  id: 'copy-groupware',
  level: 'mailbox',
  title: 'Copy contacts, calendars, tasks, filters and the auto-reply',
  async run(ctx) {
    if (fromFiles(ctx)) return skippedForFiles('and the contacts, calendars and tasks with it (PST, ICS, VCF), in the copy step');
    return done(summarise(await groupwarePass(ctx)));
  },
};
