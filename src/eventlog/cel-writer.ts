/**
 * The TCG Canonical Event Log (CEL) in its JSON encoding: a JSON array of records
 * `{recnum, pcr, digests: [{hashAlg, digest}], content_type, content}`. PC Client events are
 * carried with the content type the CEL spec defines for them, "pcclient_std", whose content is
 * `{event_type, event_data}`; byte strings are lower-case hex, as in the spec's example record.
 * recnum counts from 0 per PCR (CEL §4.2.2). See docs/event-log.md, "Export".
 */
import { toHex } from '../tpm/crypto/bytes.js';
import { knownEventTypeName } from './event-types.js';
import { hashAlgName } from './spec-id-event.js';
import type { TcgPcrEvent } from './tcg-log-writer.js';

export interface CelDigest {
  readonly hashAlg: string;
  readonly digest: string;
}

export interface CelPcClientRecord {
  readonly recnum: number;
  readonly pcr: number;
  readonly digests: CelDigest[];
  readonly content_type: 'pcclient_std';
  /** event_type: the EV_* name, or the number for a type without one. */
  readonly content: { readonly event_type: string | number; readonly event_data: string };
}

export function celRecords(events: readonly TcgPcrEvent[]): CelPcClientRecord[] {
  const next = new Map<number, number>();
  return events.map((ev) => {
    const recnum = next.get(ev.pcrIndex) ?? 0;
    next.set(ev.pcrIndex, recnum + 1);
    return {
      recnum,
      pcr: ev.pcrIndex,
      digests: ev.digests.map((d) => ({ hashAlg: hashAlgName(d.hashAlg), digest: toHex(d.digest) })),
      content_type: 'pcclient_std',
      content: { event_type: knownEventTypeName(ev.eventType) ?? ev.eventType, event_data: toHex(ev.event) },
    };
  });
}

/** The CEL-JSON text: the array with one record per line. */
export function encodeCelJson(events: readonly TcgPcrEvent[]): string {
  const lines = celRecords(events).map((r) => JSON.stringify(r));
  return lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`;
}
