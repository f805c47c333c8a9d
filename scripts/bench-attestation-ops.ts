/**
 * The stage 4 rows of the key bench: Quote with an ECC and an RSA attestation key, a 1 KiB
 * NV_Write + NV_Read, and a PCR-sealed object unsealed through a fresh PolicyPCR session.
 * Commands are built from Part 2/3 by the test helpers, as the other rows are.
 */
import { command, pwAuth, tpm2b, u16, u32 } from '../test/tpm/helpers/tpm-wire.js';
import { SE, startAuthSessionCommand, pcrSelection, policyPcrCommand, getDigestCommand, flushCommand } from '../test/tpm/helpers/session-cmd.js';
import { OBJ, OCC, create, load, parseCreate, policyAuth, sealTemplate, sensitiveCreate } from '../test/tpm/helpers/object-cmd.js';
import { ALG, scheme } from '../test/tpm/helpers/key-cmd.js';
import { TEMPLATES } from '../test/helpers/key-commands.js';
import type { SwtpmDataClient } from '../test/helpers/raw-client.js';
import { createPrimary, send, type KeyOp } from './bench-tpm-send.js';

const TPM_CC = { Quote: 0x158, NV_DefineSpace: 0x12a, NV_Write: 0x137, NV_Read: 0x14e } as const;
const TPM_RH_OWNER = 0x40000001;
/** TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA: an ordinary index its own password reaches. */
const NV_ATTRIBUTES = 0x4 | 0x40000 | 0x2000000;
const NV_INDEX = 0x01500020;
const NV_SIZE = 1024;
/** The PCRs a boot-state quote typically covers. */
const QUOTED_PCRS = pcrSelection([{ alg: ALG.SHA256, pcrs: [0, 1, 2, 3, 4, 5, 6, 7] }]);
const SEALED_PCRS = pcrSelection([{ alg: ALG.SHA256, pcrs: [0] }]);
const NONCE = Buffer.alloc(32, 0x6e);

const quote = (name: string, template: Parameters<typeof createPrimary>[1]): KeyOp => ({
  name, target: 2,
  async prepare(client, loaded) {
    const { handle } = await createPrimary(client, template, loaded);
    const bytes = command(TPM_CC.Quote, [handle], [tpm2b(NONCE), scheme(ALG.NULL), QUOTED_PCRS], [pwAuth()]);
    return async () => void await send(client, 'Quote', bytes);
  },
});

async function defineNvIndex(client: SwtpmDataClient): Promise<void> {
  const nvPublic = Buffer.concat([u32(NV_INDEX), u16(ALG.SHA256), u32(NV_ATTRIBUTES), tpm2b(Buffer.alloc(0)), u16(NV_SIZE)]);
  await send(client, 'NV_DefineSpace', command(TPM_CC.NV_DefineSpace, [TPM_RH_OWNER], [tpm2b(Buffer.alloc(0)), tpm2b(nvPublic)], [pwAuth()]));
}

async function pcrPolicyDigest(client: SwtpmDataClient): Promise<Buffer> {
  const trial = (await send(client, 'StartAuthSession', startAuthSessionCommand({ type: SE.TRIAL }))).readUInt32BE(10);
  await send(client, 'PolicyPCR', policyPcrCommand(trial, Buffer.alloc(0), SEALED_PCRS));
  const response = await send(client, 'PolicyGetDigest', getDigestCommand(trial));
  await send(client, 'FlushContext', flushCommand(trial));
  return response.subarray(12, 12 + response.readUInt16BE(10));
}

export const STAGE4_OPS: readonly KeyOp[] = [
  quote('Quote ECC P-256 (ECDSA, 8 SHA-256 PCRs)', TEMPLATES.ecdsaAk),
  quote('Quote RSA-2048 (RSASSA, 8 SHA-256 PCRs)', TEMPLATES.rsassaAk),
  {
    name: 'NV_Write + NV_Read of 1 KiB (index password)',
    target: 1,
    async prepare(client) {
      await defineNvIndex(client);
      const write = command(TPM_CC.NV_Write, [NV_INDEX, NV_INDEX], [tpm2b(Buffer.alloc(NV_SIZE, 0x4e)), u16(0)], [pwAuth()]);
      const read = command(TPM_CC.NV_Read, [NV_INDEX, NV_INDEX], [u16(NV_SIZE), u16(0)], [pwAuth()]);
      return async () => {
        await send(client, 'NV_Write', write);
        await send(client, 'NV_Read', read);
      };
    },
  },
  {
    name: 'StartAuthSession + PolicyPCR + Unseal of a PCR-sealed object',
    target: 1,
    async prepare(client, loaded) {
      const parent = await createPrimary(client, TEMPLATES.eccStorage, loaded);
      const authPolicy = await pcrPolicyDigest(client);
      const sealed = parseCreate(await send(client, 'Create', create(parent.handle,
        sealTemplate({ attributes: OBJ.fixedTPM | OBJ.fixedParent, authPolicy }), sensitiveCreate(Buffer.alloc(0), Buffer.alloc(32, 0x5e)))));
      const item = (await send(client, 'Load', load(parent.handle, sealed.outPrivate, sealed.outPublic))).readUInt32BE(10);
      loaded.push(item);
      const start = startAuthSessionCommand({ type: SE.POLICY });
      return async () => {
        const session = (await send(client, 'StartAuthSession', start)).readUInt32BE(10);
        await send(client, 'PolicyPCR', policyPcrCommand(session, Buffer.alloc(0), SEALED_PCRS));
        // Not continued (attributes 0): the TPM flushes the session after Unseal.
        await send(client, 'Unseal', command(OCC.Unseal, [item], [], [policyAuth(session, 0)]));
      };
    },
  },
];

