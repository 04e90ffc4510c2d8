import { summarise } from '../../groupware/index.ts';
import { groupwarePass } from '../groupware-pass.ts';
import { done, type Step } from '../types.ts';

export const copyGroupware: Step = {
  id: 'copy-groupware',
  level: 'mailbox',
  title: 'Copy contacts, calendars, tasks, filters and the auto-reply',
  async run(ctx) {
    return done(summarise(await groupwarePass(ctx)));
  },
};
