/** Words of the workers page. */
export const en = {
  'nav.workers': 'Workers',
  'workers.title': 'Workers',
  'workers.intro': 'Every worker process sharing this database, with the mailboxes it is running now. A worker that has not sent a heartbeat for {seconds} s is shown as lost: its mailboxes are taken over by the others once their lease expires.',
  'workers.none': 'No worker has run in the last 24 hours. Start one with: npx cutover run',
  'workers.host': 'Host',
  'workers.id': 'Worker',
  'workers.status': 'Status',
  'workers.heartbeat': 'Last heartbeat',
  'workers.started': 'Started',
  'workers.mailboxes': 'Mailboxes now',
  'workers.running': 'running',
  'workers.lost': 'lost',
  'workers.stopped': 'stopped',
};

export const fr: Record<keyof typeof en, string> = {
  'nav.workers': 'Workers',
  'workers.title': 'Workers',
  'workers.intro': 'Chaque processus worker qui partage cette base, avec les boîtes qu’il traite en ce moment. Un worker sans signe de vie depuis {seconds} s est affiché comme perdu : ses boîtes sont reprises par les autres à l’expiration de leur bail.',
  'workers.none': 'Aucun worker n’a tourné ces dernières 24 heures. Pour en lancer un : npx cutover run',
  'workers.host': 'Hôte',
  'workers.id': 'Worker',
  'workers.status': 'État',
  'workers.heartbeat': 'Dernier signe de vie',
  'workers.started': 'Démarré',
  'workers.mailboxes': 'Boîtes en cours',
  'workers.running': 'actif',
  'workers.lost': 'perdu',
  'workers.stopped': 'arrêté',
};
