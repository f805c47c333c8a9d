/**
 * Salted session keys against real swtpm (libtpms, the TCG reference code): the salt is shared with
 * a swtpm storage key as a client does it (RSA-OAEP "SECRET", or ECDH with our KDFe), our
 * sessionKey derives the session key from it, and a PCR_Extend authorized with that key must be
 * accepted by swtpm and answered with a response HMAC under the same key. So our KDFe (ECC), KDFa
 * and session-key composition agree with libtpms' own, which derived the key from what it decrypted.
 */
import assert from 'node:assert/strict';
import { diffieHellman, randomBytes } from 'node:crypto';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { kdfe } from '../../src/tpm/crypto/kdf.js';
import { sessionKey } from '../../src/tpm/auth/session-crypto.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { ecKeyPair } from '../helpers/key-pairs.js';
import { rsaEncryptSecret, TEMPLATES } from '../helpers/key-commands.js';
import { createPrimaryCommand, parseCreatePrimary, type CreatedKey } from '../tpm/helpers/key-cmd.js';
import { SwtpmDataClient } from '../helpers/raw-client.js';
import { startSwtpm, type SwtpmServer } from '../helpers/swtpm.js';
import { expectSuccess, responseCode, TPM_RC_INITIALIZE } from '../helpers/tpm-commands.js';
import {
  ClientSession, command, flushCommand, parseResponse, splitSessionsResponse, startAuthSessionCommand, tpm2b, u16, u32,
} from '../tpm/helpers/session-cmd.js';

const CC_PCR_EXTEND = 0x182;
const PCR = 16;
const SHA256 = TPM_ALG.SHA256;

/** The salt and its TPM2B_ENCRYPTED_SECRET contents for a storage key. */
interface SharedSalt {
  salt: Buffer;
  encrypted: Buffer;
}

function rsaSalt(key: CreatedKey): SharedSalt {
  const salt = randomBytes(32);
  return { salt, encrypted: rsaEncryptSecret(key.publicKey!, 'SECRET', salt) };
}

/** Part 1 §C.6.1: an ephemeral point, Z = its ECDH with the key, salt = KDFe(Z, "SECRET", Qe.x, Qs.x). */
function eccSalt(key: CreatedKey): SharedSalt {
  const ephemeral = ecKeyPair('P-256');
  const jwk = ephemeral.publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: key.publicKey! });
  const salt = Buffer.from(kdfe(SHA256, z, 'SECRET', x, key.unique[0]!, 256));
  return { salt, encrypted: Buffer.concat([tpm2b(x), tpm2b(y)]) };
}

describe('salted session keys against swtpm', function () {
  this.timeout(60000);
  let swtpm: SwtpmServer | undefined;
  let client: SwtpmDataClient | undefined;

  before(async function () {
    await requireInteropTools(this);
    swtpm = await startSwtpm();
    client = await SwtpmDataClient.connect(swtpm.port);
    const startup = responseCode(await client.transmit(command(0x144, [], [u16(0)])));
    assert.ok(startup === 0 || startup === TPM_RC_INITIALIZE, `Startup answered 0x${startup.toString(16)}`);
  });

  after(async () => {
    client?.close();
    await swtpm?.stop();
  });

  /** Starts a session salted with `shared` (sessionKey from `salt`) and extends PCR 16 with it; the PCR_Extend response code. */
  async function extendWithSaltedSession(key: CreatedKey, shared: SharedSalt, salt: Buffer): Promise<number> {
    const tpm = client!;
    const nonceCaller = randomBytes(32);
    const started = parseResponse(await tpm.transmit(startAuthSessionCommand({ tpmKey: key.handle, salt: shared.encrypted, nonceCaller })));
    assert.equal(started.rc, 0, `StartAuthSession answered 0x${started.rc.toString(16)}`);
    const handle = started.body.readUInt32BE(0);
    const nonceTPM = Buffer.from(started.body.subarray(6, 6 + started.body.readUInt16BE(4)));
    const session = new ClientSession(handle, SHA256, nonceTPM, Buffer.from(sessionKey(SHA256, salt, nonceTPM, nonceCaller)), nonceCaller);
    const params = Buffer.concat([u32(1), u16(SHA256), randomBytes(32)]);
    const response = await tpm.transmit(command(CC_PCR_EXTEND, [PCR], [params], [session.authCommand(CC_PCR_EXTEND, [u32(PCR)], params)]));
    const rc = responseCode(response);
    if (rc === 0) {
      const split = splitSessionsResponse(parseResponse(response), false);
      assert.ok(session.acceptResponse(CC_PCR_EXTEND, split.params, split.auths[0]!), 'swtpm response HMAC under our session key');
      expectSuccess(await tpm.transmit(flushCommand(handle)), 'FlushContext session');
    }
    return rc;
  }

  const cases: [string, keyof typeof TEMPLATES, (key: CreatedKey) => SharedSalt][] = [
    ['RSA-2048 key (OAEP, label SECRET)', 'rsaStorage', rsaSalt],
    ['ECC P-256 key (ECDH + KDFe, label SECRET)', 'eccStorage', eccSalt],
  ];
  for (const [label, template, share] of cases) {
    it(`derives the session key swtpm derives, salted by a ${label}`, async () => {
      const response = await client!.transmit(createPrimaryCommand(TEMPLATES[template]));
      expectSuccess(response, 'CreatePrimary');
      const key = parseCreatePrimary(TEMPLATES[template], response);
      try {
        const shared = share(key);
        assert.equal(await extendWithSaltedSession(key, shared, shared.salt), 0, 'swtpm accepted the command HMAC');
        const wrong = Buffer.from(shared.salt);
        wrong[0]! ^= 1;
        assert.notEqual(await extendWithSaltedSession(key, shared, wrong), 0, 'a session key from another salt is refused');
      } finally {
        await client!.transmit(flushCommand(key.handle));
      }
    });
  }
});
