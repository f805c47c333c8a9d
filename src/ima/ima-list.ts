/**
 * The kernel's two measurement list formats (security/integrity/ima/ima_fs.c), byte for byte:
 *
 * binary_runtime_measurements (ima_measurements_show), integers little-endian:
 *   u32 pcr, template hash (20 bytes; the bank's size in binary_runtime_measurements_<alg>),
 *   u32 nameLength, name, u32 templateDataLength, templateData
 *   (the legacy `ima` template instead: 20-byte digest, u32 strlen(name), name)
 *
 * ascii_runtime_measurements (ima_ascii_measurements_show): "%2d " pcr, the template hash in hex,
 * " " template name, then " " and each field as text (nothing for an empty field), "\n".
 */
import {
  FIELD_FORMATS, IMA_DIGEST_SIZE, IMA_TEMPLATE, TEMPLATE_FIELDS, splitTemplateData, templateData, type FieldFormat,
} from './ima-template.js';
import { toHex } from '../tpm/crypto/bytes.js';

export interface ImaEntry {
  pcr: number;
  /** The template hash the list shows: SHA-1 in the legacy files, the bank's in `*_<alg>` files. */
  templateHash: Uint8Array;
  templateName: string;
  /**
   * The template data as u32le-length-prefixed fields (for `ima`: the digest and the name without
   * its NUL); undefined when an ascii line of an unknown template cannot give it back.
   */
  templateData: Uint8Array | undefined;
}

/** evmctl's limits (NUM_PCRS, TCG_EVENT_NAME_LEN_MAX), also what a sane kernel list stays within. */
export const MAX_PCR = 23;
const MAX_TEMPLATE_NAME = 255;

export class ImaListError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at ${offset})`);
  }
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * A binary entry after its template hash: u32le name length, name, then the data with its length
 * (`ima`: the digest without a length, the name with its strlen). The files of one list differ
 * only in the hash, so they share this part.
 */
export function binaryAfterHash(entry: ImaEntry): Uint8Array {
  if (!entry.templateData) throw new RangeError(`entry of template ${entry.templateName} has no template data`);
  const name = utf8.encode(entry.templateName);
  const legacy = entry.templateName === IMA_TEMPLATE;
  const body = legacy ? splitTemplateData(entry.templateData)! : [entry.templateData];
  const out = new Uint8Array(4 + name.length + body.reduce((n, b) => n + b.length, 0) + 4 * (legacy ? body.length - 1 : 1));
  const view = new DataView(out.buffer);
  view.setUint32(0, name.length, true);
  out.set(name, 4);
  let at = 4 + name.length;
  body.forEach((b, i) => {
    if (!legacy || i > 0) {
      view.setUint32(at, b.length, true);
      at += 4;
    }
    out.set(b, at);
    at += b.length;
  });
  return out;
}

/** u32le pcr, the template hash, then the rest. */
export function binaryEntry(pcr: number, templateHash: Uint8Array, afterHash: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + templateHash.length + afterHash.length);
  new DataView(out.buffer).setUint32(0, pcr, true);
  out.set(templateHash, 4);
  out.set(afterHash, 4 + templateHash.length);
  return out;
}

/** One entry as the binary list holds it. */
export function encodeBinaryEntry(entry: ImaEntry): Uint8Array {
  return binaryEntry(entry.pcr, entry.templateHash, binaryAfterHash(entry));
}

/** Template names are short ASCII and repeat on every entry: decoded once each. */
const names = new Map<string, string>();
function nameOf(bytes: Uint8Array): string {
  const key = String.fromCharCode(...bytes);
  let name = names.get(key);
  if (name === undefined) {
    name = text.decode(bytes);
    if (names.size < 64) names.set(key, name);
  }
  return name;
}

/** Parses a whole binary list; `hashSize` is the size of its template-hash column. */
export function parseBinaryList(bytes: Uint8Array, hashSize = IMA_DIGEST_SIZE): ImaEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: ImaEntry[] = [];
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length) throw new ImaListError(`binary list ends inside ${what}`, at);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = bytes.subarray(at, at + n);
    at += n;
    return b;
  };
  while (at < bytes.length) {
    const start = at;
    const pcr = u32('the PCR index');
    if (pcr > MAX_PCR) throw new ImaListError(`PCR ${pcr} out of range`, start);
    const templateHash = take(hashSize, 'the template hash');
    const nameLength = u32('the template name length');
    if (nameLength > MAX_TEMPLATE_NAME) throw new ImaListError(`template name of ${nameLength} bytes`, start);
    const templateName = nameOf(take(nameLength, 'the template name'));
    let data: Uint8Array;
    if (templateName === IMA_TEMPLATE) {
      const digest = take(IMA_DIGEST_SIZE, 'the ima digest');
      const fileNameLength = u32('the ima file name length');
      data = templateData([digest, take(fileNameLength, 'the ima file name')]);
    } else {
      data = take(u32('the template data length'), 'the template data');
    }
    entries.push({ pcr, templateHash, templateName, templateData: data });
  }
  return entries;
}

const FIELD_TO_ASCII: Record<FieldFormat, (data: Uint8Array) => string> = {
  digest: toHex,
  hex: toHex,
  string: (data) => text.decode(data.subarray(0, nulAt(data))),
  'digest-with-algo': (data) => {
    const colon = data.indexOf(0x3a);
    // ima_show_template_data_ascii: the algorithm up to its NUL (i.e. "sha256:"), then the digest after ':' NUL.
    const prefix = colon > 0 ? text.decode(data.subarray(0, Math.min(colon + 1, nulAt(data)))) : '';
    return prefix + toHex(data.subarray(colon + 2));
  },
};

const ASCII_TO_FIELD: Record<FieldFormat, (field: string) => Uint8Array | undefined> = {
  digest: (field) => fromHex(field),
  hex: (field) => fromHex(field),
  string: (field) => {
    const b = utf8.encode(field);
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    return out;
  },
  'digest-with-algo': (field) => {
    const colon = field.indexOf(':');
    const digest = fromHex(field.slice(colon + 1));
    if (colon <= 0 || !digest) return undefined;
    const name = utf8.encode(field.slice(0, colon));
    const out = new Uint8Array(name.length + 2 + digest.length);
    out.set(name);
    out[name.length] = 0x3a;
    out.set(digest, name.length + 2);
    return out;
  },
};

function nulAt(data: Uint8Array): number {
  const i = data.indexOf(0);
  return i < 0 ? data.length : i;
}

function fromHex(hex: string): Uint8Array | undefined {
  return /^(?:[0-9a-fA-F]{2})*$/.test(hex) ? Uint8Array.from(Buffer.from(hex, 'hex')) : undefined;
}

/** The field formats of a template, or undefined for a template mrtpm does not know. */
function fieldFormats(templateName: string): FieldFormat[] | undefined {
  const ids = TEMPLATE_FIELDS[templateName];
  const formats = ids?.map((id) => FIELD_FORMATS[id]);
  return formats?.every((f) => f !== undefined) ? formats as FieldFormat[] : undefined;
}

/** An ascii line after its template hash: the template name and the fields, each after a space. */
export function asciiAfterHash(entry: ImaEntry): string {
  const formats = fieldFormats(entry.templateName);
  const fields = entry.templateData && splitTemplateData(entry.templateData);
  if (!formats || !fields || fields.length !== formats.length) throw new RangeError(`cannot show template ${entry.templateName} in ascii`);
  return `${entry.templateName}${fields.map((f, i) => ` ${f.length === 0 ? '' : FIELD_TO_ASCII[formats[i]!](f)}`).join('')}`;
}

export function asciiEntry(pcr: number, templateHash: Uint8Array, afterHash: string): string {
  return `${String(pcr).padStart(2)} ${toHex(templateHash)} ${afterHash}\n`;
}

/** One entry as the ascii list shows it, with its newline. */
export function formatAsciiEntry(entry: ImaEntry): string {
  return asciiEntry(entry.pcr, entry.templateHash, asciiAfterHash(entry));
}

/**
 * One ascii line back into an entry. The template data is rebuilt from the shown fields for the
 * templates mrtpm knows (the `ima` name field without its NUL, as the binary list has it).
 */
export function parseAsciiLine(line: string, offset = 0): ImaEntry {
  const m = /^ ?(\d{1,2}) ([0-9a-f]+) (\S+)((?: [^ ]*)*)$/.exec(line);
  if (!m || m[2]!.length % 2 !== 0) throw new ImaListError(`not an IMA ascii list line: ${JSON.stringify(line.slice(0, 80))}`, offset);
  const pcr = Number(m[1]);
  if (pcr > MAX_PCR) throw new ImaListError(`PCR ${pcr} out of range`, offset);
  const templateName = m[3]!;
  const shown = m[4]!.length === 0 ? [] : m[4]!.slice(1).split(' ');
  const formats = fieldFormats(templateName);
  // A copied line may have lost the trailing space the kernel writes before an empty last field.
  if (formats && shown.length === formats.length - 1) shown.push('');
  let data: Uint8Array | undefined;
  if (formats && shown.length === formats.length) {
    const fields = shown.map((s, i) => (s === '' ? new Uint8Array(0) : ASCII_TO_FIELD[formats[i]!](s)));
    if (templateName === IMA_TEMPLATE && fields[1]) fields[1] = fields[1].subarray(0, fields[1].length - 1);
    if (fields.every((f) => f !== undefined)) data = templateData(fields as Uint8Array[]);
  }
  return { pcr, templateHash: fromHex(m[2]!)!, templateName, templateData: data };
}

/** Parses a whole ascii list (empty lines ignored). */
export function parseAsciiList(content: string): ImaEntry[] {
  const entries: ImaEntry[] = [];
  let offset = 0;
  for (const line of content.split('\n')) {
    if (line.length > 0) entries.push(parseAsciiLine(line, offset));
    offset += line.length + 1;
  }
  return entries;
}

/** A list file's format: the kernel's binary lists start with a u32le PCR index, never with text. */
export function isBinaryList(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0;
}
