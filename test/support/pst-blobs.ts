// Outlook's binary property values built by hand, for the PST conversion tests: a recurrence
// pattern (MS-OXOCAL 2.2.1.44) and the two forms of a time zone (2.2.1.41 TZDEFINITION, 2.2.1.39 TZSTRUCT).

const MINUTES_1601_TO_1970 = 11_644_473_600 / 60;
/** An ISO time as minutes since 1601, the blob's unit. */
export const minutes = (iso: string) => Date.parse(iso) / 60_000 + MINUTES_1601_TO_1970;

function pack(ints: Array<[number, number]>): Buffer {
  const buf = Buffer.alloc(ints.reduce((n, [, size]) => n + size, 0));
  let at = 0;
  for (const [value, size] of ints) {
    if (size === 2) buf.writeInt16LE(value << 16 >> 16, at); else buf.writeInt32LE(value | 0, at);
    at += size;
  }
  return buf;
}

/**
 * A modified occurrence: ExceptionInfo (2.2.1.44.2) with the 8-bit `subject`/`location`, and its
 * ExtendedException (2.2.1.44.3) with the Unicode `wideSubject`/`wideLocation` (defaulting to the
 * 8-bit ones). Times are ISO wall times of the appointment's zone.
 */
export interface ExceptionSpec { start: string; end: string; original: string; subject?: string; location?: string; wideSubject?: string; wideLocation?: string; busyStatus?: number; reminderDelta?: number; reminderSet?: boolean; extraFlags?: number }

const ansi = (text: string) => Buffer.concat([pack([[text.length + 1, 2], [text.length, 2]]), Buffer.from(text, 'latin1')]);
const wide = (text: string) => Buffer.concat([pack([[text.length, 2]]), Buffer.from(text, 'utf16le')]);

/** ExceptionCount, the ExceptionInfo array, ReservedBlock1, the ExtendedException array, ReservedBlock2. */
export function exceptionsBlock(exceptions: ExceptionSpec[], writerVersion = 0x3009): Buffer {
  const infos: Buffer[] = [];
  const extended: Buffer[] = [];
  for (const e of exceptions) {
    const subject = e.subject ?? e.wideSubject;
    const location = e.location ?? e.wideLocation;
    const flags = (subject !== undefined ? 0x1 : 0) | (e.reminderDelta !== undefined ? 0x4 : 0) | (e.reminderSet !== undefined ? 0x8 : 0) | (location !== undefined ? 0x10 : 0) | (e.busyStatus !== undefined ? 0x20 : 0) | (e.extraFlags ?? 0);
    const times = pack([[minutes(`${e.start}Z`), 4], [minutes(`${e.end}Z`), 4], [minutes(`${e.original}Z`), 4]]);
    const info = [times, pack([[flags, 2]])];
    if (subject !== undefined) info.push(ansi(subject));
    if (flags & 0x2) info.push(pack([[1, 4]]));
    if (e.reminderDelta !== undefined) info.push(pack([[e.reminderDelta, 4]]));
    if (e.reminderSet !== undefined) info.push(pack([[e.reminderSet ? 1 : 0, 4]]));
    if (location !== undefined) info.push(ansi(location));
    if (e.busyStatus !== undefined) info.push(pack([[e.busyStatus, 4]]));
    for (const bit of [0x40, 0x80, 0x100]) if (flags & bit) info.push(pack([[0, 4]]));
    infos.push(...info);
    if (writerVersion >= 0x3009) extended.push(pack([[4, 4], [0, 4]])); // ChangeHighlight: size, value
    extended.push(pack([[0, 4]])); // ReservedBlockEE1Size
    if (subject !== undefined || location !== undefined) {
      extended.push(times);
      if (subject !== undefined) extended.push(wide(e.wideSubject ?? subject));
      if (location !== undefined) extended.push(wide(e.wideLocation ?? location));
      extended.push(pack([[0, 4]])); // ReservedBlockEE2Size
    }
  }
  return Buffer.concat([pack([[exceptions.length, 2]]), ...infos, pack([[0, 4]]), ...extended, pack([[0, 4]])]);
}

/** A RecurrencePattern (MS-OXOCAL 2.2.1.44.1) followed by the AppointmentRecurrencePattern's fields, exceptions included. */
export function recurrenceBlob(opts: { freq: number; patternType: number; period: number; specific: number[]; endType: number; count: number; deleted?: string[]; modified?: string[]; start: string; end: number; startOffset: number; exceptions?: ExceptionSpec[]; writerVersion?: number }): Buffer {
  const ints: Array<[number, number]> = [[0x3004, 2], [0x3004, 2], [opts.freq, 2], [opts.patternType, 2], [0, 2], [0, 4], [opts.period, 4], [0, 4]];
  for (const s of opts.specific) ints.push([s, 4]);
  ints.push([opts.endType, 4], [opts.count, 4], [0, 4], [(opts.deleted ?? []).length, 4]);
  for (const d of opts.deleted ?? []) ints.push([minutes(d), 4]);
  ints.push([(opts.modified ?? []).length, 4]);
  for (const d of opts.modified ?? []) ints.push([minutes(d), 4]);
  const writerVersion = opts.writerVersion ?? 0x3009;
  ints.push([minutes(opts.start), 4], [opts.end, 4], [0x3006, 4], [writerVersion, 4], [opts.startOffset, 4], [opts.startOffset + 30, 4]);
  return Buffer.concat([pack(ints), exceptionsBlock(opts.exceptions ?? [], writerVersion)]);
}

/** [month, weekday (0 = Sunday), nth (5 = last), hour]; undefined: no transition. */
export type Change = [number, number, number, number] | undefined;

const systemTime = (c: Change) => pack([[0, 2], [c?.[0] ?? 0, 2], [c?.[1] ?? 0, 2], [c?.[2] ?? 0, 2], [c?.[3] ?? 0, 2], [0, 2], [0, 2], [0, 2]]);
const biases = (bias: number, standardBias: number, daylightBias: number) => pack([[bias, 4], [standardBias, 4], [daylightBias, 4]]);

/** One TZRULE (MS-OXOCAL 2.2.1.41.1); the rule Outlook marks as in effect has flag 2. */
export function tzRule(year: number, bias: number, daylightBias: number, toStandard: Change, toDaylight: Change): Buffer {
  return Buffer.concat([pack([[0x0102, 2], [0x003e, 2], [2, 2], [year, 2]]), Buffer.alloc(14), biases(bias, 0, daylightBias), systemTime(toStandard), systemTime(toDaylight)]);
}

export function tzDefinition(keyName: string, rules: Buffer[]): Buffer {
  const key = Buffer.from(keyName, 'utf16le');
  return Buffer.concat([pack([[0x0102, 2], [6 + key.length, 2], [2, 2], [keyName.length, 2]]), key, pack([[rules.length, 2]]), ...rules]);
}

export function tzStruct(bias: number, daylightBias: number, toStandard: Change, toDaylight: Change): Buffer {
  return Buffer.concat([biases(bias, 0, daylightBias), pack([[0, 2]]), systemTime(toStandard), pack([[0, 2]]), systemTime(toDaylight)]);
}

/**
 * A recurring PSTAppointment as appointmentEvent reads it ("Weekly sync" in Room 1, busy, a
 * 15-minute reminder); `tz` as its PidLidAppointmentTimeZoneDefinitionRecur.
 */
export function fakeAppointment(blob: Buffer, start: Date, end: Date, tz?: Buffer): never {
  return {
    startTime: start, endTime: end, subType: false, isRecurring: true, recurrenceStructure: blob, recurrencePattern: 'every Monday',
    subject: 'Weekly sync', location: 'Room 1', body: 'Agenda', busyStatus: 2, reminderSet: true, reminderDelta: 15, senderEmailAddress: '', numberOfRecipients: 0, sensitivity: 0,
    descriptorNodeId: { toString: () => '2097252' }, creationTime: new Date('2024-03-01T12:00:00Z'), getDateItem: () => new Date('2024-03-01T13:00:00Z'),
    pstFile: { getNameToIdMapItem: (lid: number) => lid },
    pstTableItems: new Map(tz ? [[0x8260, { entryValueType: 0x0102, isExternalValueReference: false, entryValueReference: 0, data: tz }]] : []),
    localDescriptorItems: null,
  } as never;
}
