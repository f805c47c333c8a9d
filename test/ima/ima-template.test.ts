/**
 * The ima-ng template and the kernel's list formats against bytes built here by hand from the
 * kernel's layout (ima_template_lib.c, ima_fs.c), with node:crypto for every digest; and the
 * fixture list written by test/fixtures/ima/make-kernel-list.py (an independent Python writer).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { digestWithAlgoField, imaNgTemplateData, stringField, templateData, templateHash } from '../../src/ima/ima-template.js';
import { encodeBinaryEntry, formatAsciiEntry, parseAsciiLine, parseAsciiList, parseBinaryList, type ImaEntry } from '../../src/ima/ima-list.js';
import { replayImaList, replayPaddedSha1 } from '../../src/ima/ima-replay.js';
import { bootAggregate, bootAggregateBank } from '../../src/ima/boot-aggregate.js';
import { bootAggregateMeasurement, imaNgMeasurement } from '../../src/ima/ima-measure.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/ima/', import.meta.url));
const sha = (alg: string, ...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash(alg)).digest();
const le32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('IMA ima-ng template', () => {
  const fileDigest = sha('sha256', Buffer.from('hello\n'));
  // d-ng: "sha256" ':' NUL digest; n-ng: path NUL; each with a u32le length in front.
  const dng = Buffer.concat([Buffer.from('sha256:'), Buffer.from([0]), fileDigest]);
  const nng = Buffer.from('/etc/hello.conf\0');
  const expected = Buffer.concat([le32(dng.length), dng, le32(nng.length), nng]);

  it('encodes d-ng and n-ng as the kernel does (40 + 16 bytes, little-endian lengths)', () => {
    assert.equal(dng.length, 40);
    const data = imaNgTemplateData('sha256', fileDigest, '/etc/hello.conf');
    assert.equal(hex(data), expected.toString('hex'));
    assert.equal(hex(data.subarray(0, 4)), '28000000');
  });

  it('template hashes are each bank\'s hash of the whole template data', () => {
    for (const alg of ['sha1', 'sha256', 'sha384', 'sha512']) assert.equal(hex(templateHash(alg, 'ima-ng', expected)), sha(alg, expected).toString('hex'), alg);
    const m = imaNgMeasurement(expected, ['sha256', 'sha384']);
    assert.deepEqual([...m.templateHashes.keys()], ['sha1', 'sha256', 'sha384']);
    assert.equal(hex(m.entry.templateHash), sha('sha1', expected).toString('hex'));
  });

  it('replaces spaces in names with underscores before the NUL', () => {
    assert.equal(Buffer.from(stringField('/tmp/a b  c')).toString('latin1'), '/tmp/a_b__c\0');
    assert.equal(hex(digestWithAlgoField('sha1', undefined)), Buffer.concat([Buffer.from('sha1:\0'), Buffer.alloc(20)]).toString('hex'), 'a violation has 20 zero bytes');
  });

  it('the legacy ima template hashes its digest and its name padded to 256 bytes', () => {
    const digest = sha('sha1', Buffer.from('x'));
    const data = templateData([digest, Buffer.from('/init')]);
    const padded = Buffer.concat([digest, Buffer.from('/init'), Buffer.alloc(256 - 5)]);
    assert.equal(hex(templateHash('sha1', 'ima', data)), sha('sha1', padded).toString('hex'));
  });
});

describe('IMA list formats', () => {
  const data = imaNgTemplateData('sha256', sha('sha256', Buffer.from('x')), '/bin/x');
  const entry: ImaEntry = { pcr: 10, templateHash: sha('sha1', Buffer.from(data)), templateName: 'ima-ng', templateData: data };

  it('binary entry: u32le pcr, hash, u32le name length, name, u32le data length, data', () => {
    const want = Buffer.concat([le32(10), Buffer.from(entry.templateHash), le32(6), Buffer.from('ima-ng'), le32(data.length), Buffer.from(data)]);
    assert.equal(hex(encodeBinaryEntry(entry)), want.toString('hex'));
    const parsed = parseBinaryList(Buffer.concat([want, want]));
    assert.equal(parsed.length, 2);
    for (const p of parsed) assert.deepEqual({ ...p, templateHash: hex(p.templateHash), templateData: hex(p.templateData!) }, { ...entry, templateHash: hex(entry.templateHash), templateData: hex(data) });
  });

  it('ascii entry: "%2d " pcr, hex hash, name, fields; parses back to the same template data', () => {
    const line = formatAsciiEntry(entry);
    assert.equal(line, `10 ${hex(entry.templateHash)} ima-ng sha256:${hex(sha('sha256', Buffer.from('x')))} /bin/x\n`);
    assert.equal(hex(parseAsciiLine(line.trimEnd()).templateData!), hex(data));
    assert.equal(formatAsciiEntry({ ...entry, pcr: 7 }).slice(0, 3), ' 7 ');
    assert.equal(parseAsciiLine(formatAsciiEntry({ ...entry, pcr: 7 }).trimEnd()).pcr, 7);
  });

  it('an empty ima-sig signature prints as a trailing space, and a copy without it still parses', () => {
    const sigData = templateData([digestWithAlgoField('sha256', new Uint8Array(32)), stringField('/a'), new Uint8Array(0)]);
    const line = formatAsciiEntry({ pcr: 10, templateHash: new Uint8Array(20).fill(1), templateName: 'ima-sig', templateData: sigData });
    assert.ok(line.endsWith(' /a \n'));
    assert.equal(hex(parseAsciiLine(line.slice(0, -2)).templateData!), hex(sigData));
  });

  it('rejects truncated binary lists and PCRs past 23', () => {
    const bytes = encodeBinaryEntry(entry);
    assert.throws(() => parseBinaryList(bytes.subarray(0, bytes.length - 1)), /ends inside the template data/);
    assert.throws(() => parseBinaryList(encodeBinaryEntry({ ...entry, pcr: 24 })), /PCR 24 out of range/);
  });
});

describe('IMA replay and boot_aggregate', () => {
  it('extends each bank with its template hash, violations with all-ones', () => {
    const a = imaNgMeasurement(imaNgTemplateData('sha256', sha('sha256', Buffer.from('a')), '/a'), []);
    const v: ImaEntry = { pcr: 10, templateHash: new Uint8Array(20), templateName: 'ima-ng', templateData: imaNgTemplateData('sha256', undefined, '/v') };
    const r = replayImaList([a.entry, v], ['sha1', 'sha256']);
    const d = Buffer.from(a.entry.templateData!);
    const want256 = sha('sha256', sha('sha256', Buffer.alloc(32), sha('sha256', d)), Buffer.alloc(32, 0xff));
    const want1 = sha('sha1', sha('sha1', Buffer.alloc(20), sha('sha1', d)), Buffer.alloc(20, 0xff));
    assert.equal(hex(r.banks.get('sha256')!.get(10)!), want256.toString('hex'));
    assert.equal(hex(r.banks.get('sha1')!.get(10)!), want1.toString('hex'));
    assert.equal(r.violations, 1);
    assert.deepEqual(r.badTemplateHashes, []);
  });

  it('padded SHA-1: a bank the kernel has no hash for is extended with the SHA-1 template hash zero-padded, violations with all-ones', () => {
    const a = imaNgMeasurement(imaNgTemplateData('sha256', sha('sha256', Buffer.from('a')), '/a'), []);
    const v: ImaEntry = { pcr: 10, templateHash: new Uint8Array(20), templateName: 'ima-ng', templateData: imaNgTemplateData('sha256', undefined, '/v') };
    const sha1 = sha('sha1', Buffer.from(a.entry.templateData!));
    const want384 = sha('sha384', sha('sha384', Buffer.alloc(48), sha1, Buffer.alloc(28)), Buffer.alloc(48, 0xff));
    const padded = replayPaddedSha1([a.entry, v], ['sha1', 'sha384']);
    assert.deepEqual([...padded.keys()], ['sha384']);
    assert.equal(hex(padded.get('sha384')!.get(10)!), want384.toString('hex'));
    assert.notEqual(hex(replayImaList([a.entry, v], ['sha384']).banks.get('sha384')!.get(10)!), want384.toString('hex'));
    // A sha256 column: the SHA-1 comes from the template data; without the data there is none.
    const col256 = { ...a.entry, templateHash: sha('sha256', Buffer.from(a.entry.templateData!)) };
    assert.equal(hex(replayPaddedSha1([col256], ['sha384'], 'sha256').get('sha384')!.get(10)!), sha('sha384', Buffer.alloc(48), sha1, Buffer.alloc(28)).toString('hex'));
    assert.equal(replayPaddedSha1([{ ...col256, templateData: undefined }], ['sha384'], 'sha256').size, 0);
  });

  it('flags an entry whose template data was altered after hashing', () => {
    const a = imaNgMeasurement(imaNgTemplateData('sha256', sha('sha256', Buffer.from('a')), '/a'), []);
    const forged = { ...a.entry, templateData: imaNgTemplateData('sha256', sha('sha256', Buffer.from('a')), '/b') };
    assert.deepEqual(replayImaList([a.entry, forged], ['sha256']).badTemplateHashes, [1]);
  });

  it('boot_aggregate: sha256 over PCRs 0-9, sha1 over PCRs 0-7; the bank of ima_hash, else sha256, else sha1', () => {
    const pcrs = new Map(Array.from({ length: 10 }, (_, i) => [i, sha('sha256', Buffer.from([i]))]));
    assert.equal(hex(bootAggregate('sha256', pcrs)), sha('sha256', ...[...pcrs.values()]).toString('hex'));
    const pcrs1 = new Map(Array.from({ length: 10 }, (_, i) => [i, sha('sha1', Buffer.from([i]))]));
    assert.equal(hex(bootAggregate('sha1', pcrs1)), sha('sha1', ...[...pcrs1.values()].slice(0, 8)).toString('hex'));
    assert.equal(bootAggregateBank('sha384', ['sha256', 'sha384']), 'sha384');
    assert.equal(bootAggregateBank('sha512', ['sha1', 'sha256', 'sha384']), 'sha256');
    assert.equal(bootAggregateBank('sha256', ['sha1']), 'sha1');
    const m = bootAggregateMeasurement('sha256', new Uint8Array(32), []);
    assert.match(formatAsciiEntry(m.entry), /^10 [0-9a-f]{40} ima-ng sha256:0{64} boot_aggregate\n$/);
  });
});

describe('IMA fixture list (written by make-kernel-list.py)', () => {
  const expected = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as { entries: number; violations: number; bootAggregate: string; pcr10: Record<string, string> };
  const banks = ['sha1', 'sha256', 'sha384'];
  const check = (entries: ImaEntry[], listHash: string): void => {
    const r = replayImaList(entries, banks, listHash);
    assert.equal(r.entries, expected.entries);
    assert.equal(r.violations, expected.violations);
    assert.deepEqual(r.badTemplateHashes, []);
    for (const b of banks) assert.equal(hex(r.banks.get(b)!.get(10)!), expected.pcr10[b], b);
  };

  it('the binary list replays to the expected PCR 10 of every bank', () => {
    const entries = parseBinaryList(readFileSync(`${FIXTURES}binary_runtime_measurements`));
    check(entries, 'sha1');
    assert.deepEqual([...new Set(entries.map((e) => e.templateName))], ['ima-sig', 'ima-buf']);
  });

  it('the ascii lists (sha1 and sha256 columns) replay the same, and print back byte for byte', () => {
    for (const [file, listHash] of [['ascii_runtime_measurements', 'sha1'], ['ascii_runtime_measurements_sha256', 'sha256']] as const) {
      const text = readFileSync(`${FIXTURES}${file}`, 'utf8');
      const entries = parseAsciiList(text);
      check(entries, listHash);
      assert.equal(entries.map(formatAsciiEntry).join(''), text);
    }
    const binary = readFileSync(`${FIXTURES}binary_runtime_measurements`);
    assert.equal(hex(Buffer.concat(parseAsciiList(readFileSync(`${FIXTURES}ascii_runtime_measurements`, 'utf8')).map(encodeBinaryEntry))), binary.toString('hex'));
  });

  it('its boot_aggregate entry carries the sha256 aggregate', () => {
    const first = parseAsciiList(readFileSync(`${FIXTURES}ascii_runtime_measurements`, 'utf8'))[0]!;
    assert.match(formatAsciiEntry(first), new RegExp(` ima-sig sha256:${expected.bootAggregate} boot_aggregate \\n$`));
  });
});
