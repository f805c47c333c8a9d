/**
 * IMA template data as the Linux kernel builds it (security/integrity/ima/ima_template_lib.c):
 * a template is a list of fields, each stored as `u32 length (little-endian, as on x86 and with
 * ima_canonical_fmt) || data`. The template hash of a PCR bank is that bank's hash over exactly
 * those bytes (ima_calc_field_array_hash), and it is what IMA extends into the bank.
 */
import { digestOf } from './digest.js';

/** The field formats of ima_template_lib.c (enum data_formats) that mrtpm reads and writes. */
export type FieldFormat = 'digest' | 'digest-with-algo' | 'string' | 'hex';

/** Template field ids (ima_template.c supported_fields) and how each shows in the ascii list. */
export const FIELD_FORMATS: Readonly<Record<string, FieldFormat>> = {
  d: 'digest',
  n: 'string',
  'd-ng': 'digest-with-algo',
  'n-ng': 'string',
  sig: 'hex',
  buf: 'hex',
  'd-modsig': 'digest-with-algo',
  modsig: 'hex',
};

/** The built-in templates (ima_template.c builtin_templates) whose fields mrtpm knows. */
export const TEMPLATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ima: ['d', 'n'],
  'ima-ng': ['d-ng', 'n-ng'],
  'ima-sig': ['d-ng', 'n-ng', 'sig'],
  'ima-buf': ['d-ng', 'n-ng', 'buf'],
  'ima-modsig': ['d-ng', 'n-ng', 'sig', 'd-modsig', 'modsig'],
};

/** The legacy `ima` template: its name field is hashed zero-padded to IMA_EVENT_NAME_LEN_MAX + 1. */
export const IMA_TEMPLATE = 'ima';
export const IMA_EVENT_NAME_LEN_MAX = 255;
/** The digest size of the legacy `d` field and of a violation's digest (IMA_DIGEST_SIZE). */
export const IMA_DIGEST_SIZE = 20;
export const BOOT_AGGREGATE_NAME = 'boot_aggregate';

const utf8 = new TextEncoder();

/**
 * A string field (DATA_FMT_STRING): the bytes with every space replaced by '_' (so the ascii
 * list stays splittable on spaces), then a NUL.
 */
export function stringField(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] === 0x20 ? 0x5f : bytes[i]!;
  return out;
}

/**
 * A digest field with its algorithm (DATA_FMT_DIGEST_WITH_ALGO, ima_eventdigest_init_common):
 * `<hash_algo_name>` ':' NUL digest. A violation has no digest: IMA_DIGEST_SIZE zero bytes.
 */
export function digestWithAlgoField(hashName: string, digest: Uint8Array | undefined): Uint8Array {
  const name = utf8.encode(hashName);
  const body = digest ?? new Uint8Array(IMA_DIGEST_SIZE);
  const out = new Uint8Array(name.length + 2 + body.length);
  out.set(name);
  out[name.length] = 0x3a;
  out.set(body, name.length + 2);
  return out;
}

/** Template data: each field as u32le length || bytes. */
export function templateData(fields: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, f) => n + 4 + f.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of fields) {
    view.setUint32(at, f.length, true);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

/** Splits template data back into its fields; undefined if the lengths do not tile it exactly. */
export function splitTemplateData(data: Uint8Array): Uint8Array[] | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fields: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 4 > data.length) return undefined;
    const len = view.getUint32(at, true);
    if (at + 4 + len > data.length) return undefined;
    fields.push(data.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return fields;
}

/** The ima-ng template data of one measurement: d-ng (algorithm and file digest), n-ng (the path). */
export function imaNgTemplateData(hashName: string, fileDigest: Uint8Array | undefined, path: string): Uint8Array {
  return templateData([digestWithAlgoField(hashName, fileDigest), stringField(path)]);
}

/**
 * The bytes the template hash covers. For every template but `ima` that is the template data
 * itself; `ima` hashes its digest and its name zero-padded to 256 bytes, without lengths.
 */
export function hashedTemplateBytes(templateName: string, data: Uint8Array): Uint8Array {
  if (templateName !== IMA_TEMPLATE) return data;
  const fields = splitTemplateData(data);
  const digest = fields?.[0] ?? new Uint8Array(IMA_DIGEST_SIZE);
  const name = fields?.[1] ?? new Uint8Array(0);
  const out = new Uint8Array(digest.length + Math.max(name.length, IMA_EVENT_NAME_LEN_MAX + 1));
  out.set(digest);
  out.set(name, digest.length);
  return out;
}

/** A bank's template hash (the kernel's entry->digests[bank]). */
export function templateHash(hashName: string, templateName: string, data: Uint8Array): Uint8Array {
  return digestOf(hashName, hashedTemplateBytes(templateName, data));
}
