// Folder names mail clients and servers give special-use folders when the server does not
// announce RFC 6154 attributes; matched case-insensitively after Unicode normalisation.
const localisedNames: Record<string, string[]> = {
  '\\Sent': ['sent', 'sent items', 'sent messages', 'sent mail', 'envoyés', 'éléments envoyés', 'messages envoyés', 'gesendet', 'gesendete objekte', 'gesendete elemente', 'enviados', 'elementos enviados', 'inviata', 'posta inviata', 'verzonden', 'verzonden items', 'wysłane', 'отправленные', '送信済み', '送信済みメール', '已发送', '已發送', '보낸편지함'],
  '\\Drafts': ['drafts', 'brouillons', 'entwürfe', 'borradores', 'bozze', 'concepten', 'kopie robocze', 'черновики', '下書き', '草稿', '임시보관함'],
  '\\Trash': ['trash', 'deleted items', 'deleted messages', 'corbeille', 'éléments supprimés', 'papierkorb', 'gelöschte elemente', 'gelöschte objekte', 'papelera', 'elementos eliminados', 'cestino', 'prullenbak', 'verwijderde items', 'kosz', 'корзина', 'ゴミ箱', '已删除', '휴지통'],
  '\\Junk': ['junk', 'spam', 'junk e-mail', 'junk email', 'junk-e-mail', 'courrier indésirable', 'pourriel', 'correo no deseado', 'posta indesiderata', 'ongewenste e-mail', 'spam-ordner', 'спам', '迷惑メール', '垃圾邮件', '스팸편지함'],
  '\\Archive': ['archive', 'archives', 'archiv', 'archivo', 'archivio', 'archief', 'archiwum', 'архив'],
};

const byName = new Map<string, string>();
for (const [use, names] of Object.entries(localisedNames)) for (const name of names) byName.set(normalise(name), use);

function normalise(name: string): string {
  return name.normalize('NFC').toLowerCase().trim();
}

export const SPECIAL_USES = Object.keys(localisedNames);

export function specialUseByName(leaf: string): string | undefined {
  return byName.get(normalise(leaf));
}
