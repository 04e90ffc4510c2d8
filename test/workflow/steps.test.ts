import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextStep, stepById, steps } from '../../server/workflow/steps/index.ts';

const ORDER = ['preflight', 'attach-domain', 'rename-source', 'create-destination', 'copy-mail', 'copy-groupware', 'verify', 'dns-cutover', 'delta-sync', 'finalize'];

test('the workflow order is exactly DESIGN §4', () => {
  assert.deepEqual(steps.map((s) => s.id), ORDER);
});

test('step ids are unique and every step has a title and a run function', () => {
  assert.equal(new Set(steps.map((s) => s.id)).size, steps.length);
  for (const s of steps) {
    assert.equal(typeof s.run, 'function', s.id);
    assert.ok(s.title.trim().length > 0, s.id);
  }
});

test('attach-domain and dns-cutover are the domain-level steps, the others run per mailbox', () => {
  assert.deepEqual(steps.filter((s) => s.level === 'domain').map((s) => s.id), ['attach-domain', 'dns-cutover']);
  assert.ok(steps.every((s) => s.level === 'domain' || s.level === 'mailbox'));
});

test('nextStep walks the order and ends after finalize', () => {
  const walked: string[] = [ORDER[0]!];
  for (let s = nextStep(ORDER[0]!); s; s = nextStep(s.id)) walked.push(s.id);
  assert.deepEqual(walked, ORDER);
  assert.equal(nextStep('finalize'), undefined);
  assert.equal(nextStep('copy-mail')!.id, 'copy-groupware');
  assert.equal(nextStep('copy-groupware')!.id, 'verify');
});

test('stepById finds each step and throws on an unknown id', () => {
  for (const id of ORDER) assert.equal(stepById(id).id, id);
  assert.throws(() => stepById('copy'), /unknown step copy/);
});

test('nextStep of an unknown id does not send the mailbox back to preflight', () => {
  assert.throws(() => nextStep('no-such-step'));
});
