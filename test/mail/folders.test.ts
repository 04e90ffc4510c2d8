import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planFolders, type FolderInfo, type FolderPlanEntry, type FolderSide } from '../../server/mail/folders.ts';

// A folder is a path, or [path, special-use attribute], or a full object for the odd flag.
type Spec = string | [string, string] | (Partial<FolderInfo> & { path: string });

function side(prefix: string, delimiter: string, specs: Spec[]): FolderSide {
  return {
    namespace: { prefix, delimiter },
    folders: specs.map((s) => {
      const base = { delimiter, subscribed: true, selectable: true };
      if (typeof s === 'string') return { ...base, path: s };
      if (Array.isArray(s)) return { ...base, path: s[0], specialUse: s[1] };
      return { ...base, ...s };
    }),
  };
}

/** '/' separator, no prefix (Dovecot default, Exchange, Gmail-like). */
const slash = (...specs: Spec[]) => side('', '/', specs);
/** Courier/Cyrus style: '.' separator, everything under 'INBOX.'. */
const courier = (...specs: Spec[]) => side('INBOX.', '.', specs);
/** '.' separator without a prefix (Dovecot maildir++ with separator '.'). */
const dotNoPrefix = (...specs: Spec[]) => side('', '.', specs);

const SLASH_DEST = slash('INBOX', ['Sent', '\\Sent'], ['Drafts', '\\Drafts'], ['Trash', '\\Trash'], ['Junk', '\\Junk']);
const COURIER_DEST = courier('INBOX', ['INBOX.Sent', '\\Sent'], ['INBOX.Drafts', '\\Drafts'], ['INBOX.Trash', '\\Trash'], ['INBOX.Junk', '\\Junk']);

function destOf(plan: FolderPlanEntry[], source: string): string {
  const entry = plan.find((e) => e.source === source);
  assert.ok(entry, `no plan entry for ${source}; plan: ${JSON.stringify(plan.map((e) => e.source))}`);
  return entry.dest;
}

function mapping(plan: FolderPlanEntry[]): Record<string, string> {
  return Object.fromEntries(plan.map((e) => [e.source, e.dest]));
}

test('every source folder gets exactly one entry, and no two entries share a destination', () => {
  const src = slash('INBOX', 'A', 'A/B', 'Sent', 'Envoyés', 'a.b', 'a_b', 'Zeta/Gesendet');
  const plan = planFolders(src, COURIER_DEST);
  assert.deepEqual(plan.map((e) => e.source).sort(), src.folders.map((f) => f.path).sort());
  assert.equal(new Set(plan.map((e) => e.dest)).size, plan.length, JSON.stringify(mapping(plan)));
});

test("'/' without prefix → '.' with 'INBOX.' prefix: prefix added, delimiter translated at every depth", () => {
  const plan = planFolders(slash('INBOX', 'Projects', 'Projects/2024', 'Projects/2024/Q1', 'Kunden'), COURIER_DEST);
  assert.deepEqual(mapping(plan), {
    INBOX: 'INBOX',
    Projects: 'INBOX.Projects',
    'Projects/2024': 'INBOX.Projects.2024',
    'Projects/2024/Q1': 'INBOX.Projects.2024.Q1',
    Kunden: 'INBOX.Kunden',
  });
  assert.ok(plan.every((e) => e.specialUse === undefined && !e.excluded));
});

test("'.' with 'INBOX.' prefix → '/' without prefix: special folders lose the prefix", () => {
  const plan = planFolders(courier('INBOX', 'INBOX.Gesendet', 'INBOX.Papierkorb', 'INBOX.Gesendet.2022'), SLASH_DEST);
  assert.equal(destOf(plan, 'INBOX'), 'INBOX');
  assert.equal(destOf(plan, 'INBOX.Gesendet'), 'Sent');
  assert.equal(destOf(plan, 'INBOX.Papierkorb'), 'Trash');
  assert.equal(destOf(plan, 'INBOX.Gesendet.2022'), 'Sent/2022');
});

test("'.' with 'INBOX.' prefix → '/' without prefix: ordinary folders lose the prefix too ('INBOX.Projects' → 'Projects')", () => {
  const plan = planFolders(courier('INBOX', 'INBOX.Projects', 'INBOX.Projects.2024', 'INBOX.x/y', 'INBOX.受信トレイ2'), SLASH_DEST);
  assert.deepEqual(mapping(plan), {
    INBOX: 'INBOX',
    'INBOX.Projects': 'Projects',
    'INBOX.Projects.2024': 'Projects/2024',
    'INBOX.x/y': 'x_y',
    'INBOX.受信トレイ2': '受信トレイ2',
  });
});

test('same layout on both sides: names are kept as they are', () => {
  const names = ['INBOX', 'Projects', 'Projects/2024', 'Entwürfe & Ideen', '受信トレイ2'];
  assert.deepEqual(mapping(planFolders(slash(...names), SLASH_DEST)), Object.fromEntries(names.map((n) => [n, n])));
  const courierNames = ['INBOX', 'INBOX.Projects', 'INBOX.Projects.2024'];
  assert.deepEqual(mapping(planFolders(courier(...courierNames), COURIER_DEST)), Object.fromEntries(courierNames.map((n) => [n, n])));
});

test("a source name holding the destination's delimiter gets '_' in its place", () => {
  const toCourier = planFolders(slash('INBOX', 'a.b', 'x', 'x/v1.2', 'x/v1.2/rc.1'), COURIER_DEST);
  assert.equal(destOf(toCourier, 'a.b'), 'INBOX.a_b');
  assert.equal(destOf(toCourier, 'x/v1.2'), 'INBOX.x.v1_2');
  assert.equal(destOf(toCourier, 'x/v1.2/rc.1'), 'INBOX.x.v1_2.rc_1');
  // The other way round: a '/' inside a '.'-delimited name.
  const toSlash = planFolders(dotNoPrefix('INBOX', 'x/y', 'p', 'p.q/r'), SLASH_DEST);
  assert.equal(destOf(toSlash, 'x/y'), 'x_y');
  assert.equal(destOf(toSlash, 'p.q/r'), 'p/q_r');
});

test('special use by RFC 6154 attribute, whatever the name', () => {
  const src = slash('INBOX', ['Sent Items', '\\Sent'], ['Mes brouillons', '\\Drafts'], ['Poubelle perso', '\\Trash'], ['Indésirables', '\\Junk']);
  const plan = planFolders(src, SLASH_DEST);
  assert.equal(destOf(plan, 'Sent Items'), 'Sent');
  assert.equal(destOf(plan, 'Mes brouillons'), 'Drafts');
  assert.equal(destOf(plan, 'Poubelle perso'), 'Trash');
  assert.equal(destOf(plan, 'Indésirables'), 'Junk');
  assert.equal(plan.find((e) => e.source === 'Sent Items')!.specialUse, '\\Sent');
  assert.equal(destOf(planFolders(src, COURIER_DEST), 'Sent Items'), 'INBOX.Sent');
});

test("the destination's special folder is found by its localised name when it has no attributes", () => {
  const dest = courier('INBOX', 'INBOX.Gesendet', 'INBOX.Entwürfe', 'INBOX.Papierkorb');
  const plan = planFolders(slash('INBOX', ['Sent Items', '\\Sent'], 'Drafts', ['Deleted Items', '\\Trash']), dest);
  assert.equal(destOf(plan, 'Sent Items'), 'INBOX.Gesendet');
  assert.equal(destOf(plan, 'Drafts'), 'INBOX.Entwürfe');
  assert.equal(destOf(plan, 'Deleted Items'), 'INBOX.Papierkorb');
});

test('a special folder the destination lacks keeps its name under the destination prefix, with its use recorded', () => {
  const plan = planFolders(slash('INBOX', 'Corbeille', 'Archives'), courier('INBOX'));
  assert.equal(destOf(plan, 'Corbeille'), 'INBOX.Corbeille');
  assert.equal(plan.find((e) => e.source === 'Corbeille')!.specialUse, '\\Trash');
});

const LOCALISED: Array<[lang: string, use: string, name: string]> = [
  ['FR', '\\Sent', 'Envoyés'], ['FR', '\\Sent', 'Éléments envoyés'], ['FR', '\\Drafts', 'Brouillons'], ['FR', '\\Trash', 'Corbeille'],
  ['FR', '\\Trash', 'Éléments supprimés'], ['FR', '\\Junk', 'Courrier indésirable'], ['FR', '\\Junk', 'Pourriel'],
  ['DE', '\\Sent', 'Gesendet'], ['DE', '\\Sent', 'Gesendete Objekte'], ['DE', '\\Drafts', 'Entwürfe'], ['DE', '\\Trash', 'Papierkorb'],
  ['DE', '\\Trash', 'Gelöschte Elemente'], ['DE', '\\Junk', 'Junk-E-Mail'],
  ['ES', '\\Sent', 'Enviados'], ['ES', '\\Sent', 'Elementos enviados'], ['ES', '\\Drafts', 'Borradores'], ['ES', '\\Trash', 'Papelera'],
  ['ES', '\\Trash', 'Elementos eliminados'], ['ES', '\\Junk', 'Correo no deseado'],
  ['JA', '\\Sent', '送信済み'], ['JA', '\\Sent', '送信済みメール'], ['JA', '\\Drafts', '下書き'], ['JA', '\\Trash', 'ゴミ箱'], ['JA', '\\Junk', '迷惑メール'],
  ['EN', '\\Sent', 'Sent Messages'], ['EN', '\\Trash', 'Deleted Items'], ['EN', '\\Junk', 'Spam'],
];
const SLASH_BY_USE: Record<string, string> = { '\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Trash': 'Trash', '\\Junk': 'Junk' };
const COURIER_BY_USE: Record<string, string> = { '\\Sent': 'INBOX.Sent', '\\Drafts': 'INBOX.Drafts', '\\Trash': 'INBOX.Trash', '\\Junk': 'INBOX.Junk' };

for (const [lang, use, name] of LOCALISED) {
  test(`localised ${lang} '${name}' is ${use} at top level, directly under INBOX on '/' and under the Courier prefix`, () => {
    const top = planFolders(slash('INBOX', name), COURIER_DEST).find((e) => e.source === name)!;
    assert.equal(top.specialUse, use);
    assert.equal(top.dest, COURIER_BY_USE[use]);

    const underInbox = planFolders(slash('INBOX', `INBOX/${name}`), COURIER_DEST).find((e) => e.source === `INBOX/${name}`)!;
    assert.equal(underInbox.specialUse, use);
    assert.equal(underInbox.dest, COURIER_BY_USE[use]);

    const courierSource = planFolders(courier('INBOX', `INBOX.${name}`), SLASH_DEST).find((e) => e.source === `INBOX.${name}`)!;
    assert.equal(courierSource.specialUse, use);
    assert.equal(courierSource.dest, SLASH_BY_USE[use]);
  });
}

test('localised names match whatever the case and Unicode normalisation (NFD from macOS clients)', () => {
  const nfd = 'Envoye\u0301s';
  assert.notEqual(nfd, 'Envoyés');
  for (const name of [nfd, 'SENT ITEMS', 'gesendet', 'CORBEILLE', 'e\u0301le\u0301ments envoye\u0301s']) {
    const plan = planFolders(slash('INBOX', name), SLASH_DEST);
    assert.equal(destOf(plan, name), name.toLowerCase().includes('corbeille') ? 'Trash' : 'Sent', name);
  }
});

test("Courier 'INBOX.Gesendet' and '/'-server 'INBOX/Envoyés' are recognised directly under INBOX", () => {
  assert.equal(destOf(planFolders(courier('INBOX', 'INBOX.Gesendet'), SLASH_DEST), 'INBOX.Gesendet'), 'Sent');
  assert.equal(destOf(planFolders(slash('INBOX', 'INBOX/Envoyés'), COURIER_DEST), 'INBOX/Envoyés'), 'INBOX.Sent');
  assert.equal(destOf(planFolders(slash('INBOX', 'INBOX/Envoyés'), SLASH_DEST), 'INBOX/Envoyés'), 'Sent');
});

test("a special name nested deeper is the user's own folder: 'Projects/Sent' stays 'Projects/Sent'", () => {
  const plan = planFolders(slash('INBOX', 'Projects', 'Projects/Sent', 'INBOX/Kunden', 'INBOX/Kunden/Gesendet', 'A/B/Trash'), SLASH_DEST);
  assert.equal(destOf(plan, 'Projects/Sent'), 'Projects/Sent');
  assert.equal(destOf(plan, 'INBOX/Kunden/Gesendet'), 'INBOX/Kunden/Gesendet');
  assert.equal(destOf(plan, 'A/B/Trash'), 'A/B/Trash');
  for (const e of plan) assert.equal(e.specialUse, undefined, e.source);
  const toCourier = planFolders(slash('INBOX', 'Projects', 'Projects/Sent'), COURIER_DEST);
  assert.equal(destOf(toCourier, 'Projects/Sent'), 'INBOX.Projects.Sent');
  assert.equal(toCourier.find((e) => e.source === 'Projects/Sent')!.specialUse, undefined);
});

test("children of a remapped special folder follow it: 'Éléments envoyés/2023' → 'Sent/2023'", () => {
  const plan = planFolders(slash('INBOX', 'Éléments envoyés', 'Éléments envoyés/2023', 'Éléments envoyés/2023/Q4', 'Brouillons', 'Brouillons/vieux'), SLASH_DEST);
  assert.equal(destOf(plan, 'Éléments envoyés'), 'Sent');
  assert.equal(destOf(plan, 'Éléments envoyés/2023'), 'Sent/2023');
  assert.equal(destOf(plan, 'Éléments envoyés/2023/Q4'), 'Sent/2023/Q4');
  assert.equal(destOf(plan, 'Brouillons/vieux'), 'Drafts/vieux');
  const toCourier = planFolders(slash('INBOX', 'Éléments envoyés', 'Éléments envoyés/2023', 'INBOX/Envoyés', 'INBOX/Envoyés/x'), COURIER_DEST);
  assert.equal(destOf(toCourier, 'Éléments envoyés/2023'), 'INBOX.Sent.2023');
  // The second Sent-named folder does not take Sent from the first, and its children follow it wherever it went.
  const second = destOf(toCourier, 'INBOX/Envoyés');
  assert.notEqual(second, 'INBOX.Sent');
  assert.equal(destOf(toCourier, 'INBOX/Envoyés/x'), `${second}.x`);
});

test("INBOX whatever its case maps to 'INBOX', and its children hang under the destination INBOX", () => {
  const plan = planFolders(slash('Inbox', 'Inbox/Sub'), COURIER_DEST);
  assert.equal(destOf(plan, 'Inbox'), 'INBOX');
  assert.equal(destOf(plan, 'Inbox/Sub'), 'INBOX.Sub');
  assert.equal(destOf(planFolders(slash('inbox', 'Work'), SLASH_DEST), 'inbox'), 'INBOX');
  assert.equal(destOf(planFolders(courier('Inbox', 'INBOX.x'), COURIER_DEST), 'Inbox'), 'INBOX');
});

test("two source folders competing for one destination: the later one gets ' (2)', then ' (3)'", () => {
  // Which of the two is "later" is the plan's stable order; what matters is that they do not meet.
  const plan = planFolders(slash('INBOX', 'a.b', 'a_b', 'a:b'), COURIER_DEST);
  assert.deepEqual(new Set([destOf(plan, 'a.b'), destOf(plan, 'a_b')]), new Set(['INBOX.a_b', 'INBOX.a_b (2)']));
  assert.equal(destOf(plan, 'a:b'), 'INBOX.a:b');
  assert.deepEqual(mapping(planFolders(slash('a:b', 'a_b', 'INBOX', 'a.b'), COURIER_DEST)), mapping(plan), 'the listing order does not change the plan');
  // A third one: on a Courier destination 'INBOX/x_y' and a top-level 'x_y' are the same name; the counter moves on.
  const three = planFolders(slash('INBOX', 'x.y', 'x_y', 'INBOX/x_y'), COURIER_DEST);
  assert.deepEqual(new Set([destOf(three, 'x.y'), destOf(three, 'x_y')]), new Set(['INBOX.x_y', 'INBOX.x_y (2)']));
  assert.equal(destOf(three, 'INBOX/x_y'), 'INBOX.x_y (3)');

  // A special folder claims the destination's Sent; a plain "Sent" next to it must not pour into it.
  const sent = planFolders(slash('INBOX', 'Éléments envoyés', 'Sent'), SLASH_DEST);
  assert.deepEqual(new Set([destOf(sent, 'Éléments envoyés'), destOf(sent, 'Sent')]), new Set(['Sent', 'Sent (2)']));
  assert.equal(sent.filter((e) => e.specialUse === '\\Sent').length, 1);

});

test('the server-announced \\Sent folder wins over a folder that only has a localised Sent name', () => {
  const plan = planFolders(slash('INBOX', 'Envoyés', ['Sent Items', '\\Sent']), SLASH_DEST);
  assert.equal(destOf(plan, 'Sent Items'), 'Sent');
  assert.equal(destOf(plan, 'Envoyés'), 'Envoyés');
});

test('the exclude list marks entries excluded, compared after Unicode normalisation, and keeps them in the plan', () => {
  const plan = planFolders(slash('INBOX', 'Spam-Archiv', 'Éléments envoyés', 'Keep'), SLASH_DEST, { exclude: ['Spam-Archiv', 'E\u0301le\u0301ments envoye\u0301s'] });
  assert.equal(plan.length, 4);
  assert.deepEqual(plan.filter((e) => e.excluded).map((e) => e.source).sort(), ['Spam-Archiv', 'Éléments envoyés'].sort());
  assert.equal(plan.find((e) => e.source === 'Keep')!.excluded, false);
  assert.equal(plan.find((e) => e.source === 'INBOX')!.excluded, false);
  assert.ok(planFolders(slash('INBOX', 'Keep'), SLASH_DEST).every((e) => !e.excluded));
});

test("CJK and 'Entwürfe' names are preserved character for character (only the top-level 'Entwürfe' is Drafts)", () => {
  const plan = planFolders(slash('INBOX', '受信トレイ2', '受信トレイ2/프로젝트', 'Entwürfe & Ideen', 'Projekte', 'Projekte/Entwürfe', 'Entwürfe'), COURIER_DEST);
  assert.equal(destOf(plan, '受信トレイ2'), 'INBOX.受信トレイ2');
  assert.equal(destOf(plan, '受信トレイ2/프로젝트'), 'INBOX.受信トレイ2.프로젝트');
  assert.equal(destOf(plan, 'Entwürfe & Ideen'), 'INBOX.Entwürfe & Ideen');
  assert.equal(destOf(plan, 'Projekte/Entwürfe'), 'INBOX.Projekte.Entwürfe');
  assert.equal(destOf(plan, 'Entwürfe'), 'INBOX.Drafts');
});

test('subscribed and selectable are carried over from the source', () => {
  const plan = planFolders(slash('INBOX', { path: 'Quiet', subscribed: false }, { path: 'Parent', selectable: false }, 'Parent/Child'), SLASH_DEST);
  const q = plan.find((e) => e.source === 'Quiet')!;
  const p = plan.find((e) => e.source === 'Parent')!;
  assert.deepEqual([q.subscribed, q.selectable], [false, true]);
  assert.deepEqual([p.subscribed, p.selectable], [true, false]);
  assert.equal(destOf(plan, 'Parent/Child'), 'Parent/Child');
});
