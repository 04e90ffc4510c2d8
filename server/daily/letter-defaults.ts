// The letters cutover proposes; an admin edits them per project and language (server/daily/letters.ts).
export const letterDefaults = {
  before: {
    en: {
      subject: 'Your mailbox {address} is moving',
      body: `Hello,

Your mailbox {address} moves to a new mail service {when}.

What changes for you:
- your messages, folders, contacts and calendars are copied for you; you keep receiving mail during the move;
- once the move is over you will receive a second letter with the new settings of your mail client:
  incoming mail (IMAP): {newImap}
  outgoing mail (SMTP): {newSmtp}
- until then, keep using your mail as usual.

Thank you.
`,
    },
    fr: {
      subject: 'Votre boîte {address} déménage',
      body: `Bonjour,

Votre boîte {address} passe à un nouveau service de messagerie {when}.

Ce qui change pour vous :
- vos messages, dossiers, contacts et agendas sont copiés pour vous ; vous continuez à recevoir vos messages pendant le déménagement ;
- une fois le déménagement terminé, vous recevrez un second courrier avec les nouveaux réglages de votre logiciel de messagerie :
  courrier entrant (IMAP) : {newImap}
  courrier sortant (SMTP) : {newSmtp}
- d'ici là, utilisez votre messagerie comme d'habitude.

Merci.
`,
    },
  },
  after: {
    en: {
      subject: 'Welcome to your new mailbox {address}',
      body: `Hello,

Your mailbox {address} has moved ({when}). Your messages and folders are there.

Settings for your mail client:
  user name: {userName}
  incoming mail (IMAP): {newImap}
  outgoing mail (SMTP): {newSmtp}

Password: {passwordLink}
(The link works once, for 14 days.)
`,
    },
    fr: {
      subject: 'Bienvenue dans votre nouvelle boîte {address}',
      body: `Bonjour,

Votre boîte {address} a déménagé ({when}). Vos messages et dossiers s'y trouvent.

Réglages de votre logiciel de messagerie :
  nom d'utilisateur : {userName}
  courrier entrant (IMAP) : {newImap}
  courrier sortant (SMTP) : {newSmtp}

Mot de passe : {passwordLink}
(Le lien ne fonctionne qu'une fois, pendant 14 jours.)
`,
    },
  },
} as const;
