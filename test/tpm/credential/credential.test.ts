/** MakeCredential / ActivateCredential through Tpm.execute (Part 3 §12.5-12.6), with the reference's error numbers. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rcOf, startedTpm } from '../helpers/pcr-cmd.js';
import { command, pwAuth, tpm2b } from '../helpers/tpm-wire.js';
import {
  ALG, OBJ, createPrimaryCommand, eccStorageKey, parseCreatePrimary, responseParams, rsaKey, rsaStorageKey, scheme, type Template,
} from '../helpers/key-cmd.js';

const CC = { ActivateCredential: 0x147, MakeCredential: 0x168 };
const RC = { TYPE_H1: 0x18a, TYPE_H2: 0x28a, SIZE_P1: 0x1d5, INTEGRITY_P1: 0x1df };
const sized = (buf: Buffer, at = 0): Buffer => buf.subarray(at + 2, at + 2 + buf.readUInt16BE(at));

function setup(storage: Template) {
  const t = startedTpm();
  const key = parseCreatePrimary(storage, t.ok(createPrimaryCommand(storage)));
  const signer = rsaKey(OBJ.sign, scheme(ALG.NULL));
  const ak = parseCreatePrimary(signer, t.ok(createPrimaryCommand(signer)));
  const make = (handle: number, credential: Buffer, name: Buffer): Buffer => t.run(command(CC.MakeCredential, [handle], [tpm2b(credential), tpm2b(name)]));
  const activate = (a: number, k: number, blob: Buffer, secret: Buffer): Buffer =>
    t.run(command(CC.ActivateCredential, [a, k], [tpm2b(blob), tpm2b(secret)], [pwAuth(), pwAuth()]));
  return { t, key, ak, make, activate };
}

for (const [label, storage] of [['RSA', rsaStorageKey()], ['ECC', eccStorageKey()]] as const) {
  describe(`MakeCredential / ActivateCredential, ${label} key (engine)`, () => {
    it('round trips a credential to the named object, and rejects a tampered blob or another object', () => {
      const { key, ak, make, activate } = setup(storage);
      const credential = randomBytes(32);
      const out = make(key.handle, credential, Buffer.from(ak.name)).subarray(10);
      const blob = sized(out);
      const secret = sized(out, 2 + blob.length);
      assert.deepEqual(sized(responseParams(activate(ak.handle, key.handle, blob, secret))), credential);
      const tampered = Buffer.from(blob);
      tampered[tampered.length - 1]! ^= 1;
      assert.equal(rcOf(activate(ak.handle, key.handle, tampered, secret)), RC.INTEGRITY_P1);
      // Bound to the AK's Name: activating with the storage key as the object fails integrity.
      assert.equal(rcOf(activate(key.handle, key.handle, blob, secret)), RC.INTEGRITY_P1);
    });

    it('needs a restricted decryption key and a credential no larger than its nameAlg digest', () => {
      const { key, ak, make, activate } = setup(storage);
      assert.equal(rcOf(make(ak.handle, randomBytes(16), Buffer.from(ak.name))), RC.TYPE_H1);
      assert.equal(rcOf(make(key.handle, randomBytes(33), Buffer.from(ak.name))), RC.SIZE_P1);
      assert.equal(rcOf(activate(ak.handle, ak.handle, randomBytes(40), randomBytes(10))), RC.TYPE_H2);
    });
  });
}
