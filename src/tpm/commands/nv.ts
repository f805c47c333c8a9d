/**
 * Part 3 §31, NV storage: DefineSpace, UndefineSpace(Special), ReadPublic, Write, Increment,
 * Extend, SetBits, WriteLock, GlobalWriteLock, Read, ReadLock, ChangeAuth.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPMA_NV, TPM_NT, TPM_RH } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { hashInfo } from '../spec/hash-algs.js';
import { UINT16, UINT64, struct } from '../marshal/codec.js';
import { TPM2B_AUTH } from '../marshal/types.js';
import { TPM2B_NAME } from '../marshal/object-types.js';
import { command, type HandleSpec } from '../engine/command-def.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { hash } from '../crypto/hash.js';
import { stripTrailingZeros } from '../auth/session-table.js';
import { TPM2B_MAX_NV_BUFFER, TPM2B_NV_PUBLIC } from '../nv/nv-public.js';
import { validateDefinition } from '../nv/nv-define.js';
import { checkReadAccess, checkWriteAccess } from '../nv/nv-access.js';
import { counterValue } from '../nv/nv-table.js';
import type { NvIndex } from '../nv/nv-index.js';
import { NO_RESPONSE } from './no-response.js';

const AUTH_NV: HandleSpec = { name: 'authHandle', kind: 'NV_AUTH', auth: 'USER' };
const NV_INDEX: HandleSpec = { name: 'nvIndex', kind: 'NV_INDEX' };
const INDEX_HANDLE = 2;

/** The index a handle names; it exists (the dispatcher checked it). */
const indexOf = (core: TpmCore, h: number): NvIndex => core.nv.get(h)!;

/** An index written: the new state is made durable before the response (the host writes atomically). */
function written(core: TpmCore, index: NvIndex, offset: number, bytes: Uint8Array): void {
  core.nv.write(index, offset, bytes);
  core.touchPersistent();
}

function requireType(index: NvIndex, type: number): void {
  if (index.type !== type) throw TpmError.handle(TPM_RC.ATTRIBUTES, INDEX_HANDLE);
}

const u64be = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v & 0xffffffffffffffffn);
  return b;
};

/**
 * NV_WriteLock / NV_ReadLock: the access check of a write / read, where an index already locked is
 * no error (and, for ReadLock, one not yet written may be locked); the lock needs `lockable`.
 */
const lockCommand = (code: number, name: string, check: (authHandle: number, index: NvIndex) => void, lockable: number, lock: number) =>
  command({
    code, name, nv: true,
    handles: [AUTH_NV, NV_INDEX],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h]) {
      const index = indexOf(core, h!);
      try {
        check(authHandle!, index);
      } catch (e) {
        if (e instanceof TpmError && e.rc === TPM_RC.NV_LOCKED) return;
        if (!(e instanceof TpmError && e.rc === TPM_RC.NV_UNINITIALIZED)) throw e;
      }
      if (!index.has(lockable)) throw TpmError.handle(TPM_RC.ATTRIBUTES, INDEX_HANDLE);
      index.set(lock);
      core.touchPersistent();
    },
  });

export const NV_COMMANDS = [
  command({
    code: TPM_CC.NV_DefineSpace, name: 'NV_DefineSpace',
    handles: [{ name: 'authHandle', kind: 'PROVISION', auth: 'USER' }],
    params: struct({ auth: TPM2B_AUTH, publicInfo: TPM2B_NV_PUBLIC }),
    response: NO_RESPONSE,
    handler({ core }, [authHandle], { auth, publicInfo }) {
      const authValue = stripTrailingZeros(auth);
      validateDefinition(authHandle!, authValue, publicInfo, core.volatile.phEnableNV !== false);
      core.nv.define(publicInfo.nvIndex, {
        nameAlg: publicInfo.nameAlg,
        attributes: publicInfo.attributes >>> 0,
        authPolicy: publicInfo.authPolicy.slice(),
        authValue: authValue.slice(),
        dataSize: publicInfo.dataSize,
        data: new Uint8Array(0),
      });
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.NV_UndefineSpace, name: 'NV_UndefineSpace',
    handles: [{ name: 'authHandle', kind: 'PROVISION', auth: 'USER' }, NV_INDEX],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h]) {
      const index = indexOf(core, h!);
      if (index.has(TPMA_NV.POLICY_DELETE)) throw TpmError.handle(TPM_RC.ATTRIBUTES, INDEX_HANDLE);
      // The owner may delete only what the owner defined; the platform may delete either.
      if (authHandle === TPM_RH.OWNER && index.has(TPMA_NV.PLATFORMCREATE)) throw new TpmError(TPM_RC.NV_AUTHORIZATION);
      core.nv.undefine(h!);
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.NV_UndefineSpaceSpecial, name: 'NV_UndefineSpaceSpecial',
    handles: [{ name: 'nvIndex', kind: 'NV_INDEX', auth: 'ADMIN' }, { name: 'platform', kind: 'PLATFORM', auth: 'USER' }],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }, [h]) {
      if (!indexOf(core, h!).has(TPMA_NV.POLICY_DELETE)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      core.nv.undefine(h!);
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.NV_ReadPublic, name: 'NV_ReadPublic',
    handles: [NV_INDEX],
    params: struct({}),
    response: struct({ nvPublic: TPM2B_NV_PUBLIC, nvName: TPM2B_NAME }),
    handler({ core }, [h]) {
      const index = indexOf(core, h!);
      return { nvPublic: index.public, nvName: index.name };
    },
  }),
  command({
    code: TPM_CC.NV_Write, name: 'NV_Write', nv: true,
    handles: [AUTH_NV, NV_INDEX],
    params: struct({ data: TPM2B_MAX_NV_BUFFER, offset: UINT16 }),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h], { data, offset }) {
      const index = indexOf(core, h!);
      checkWriteAccess(authHandle!, index);
      if (index.type === TPM_NT.COUNTER || index.type === TPM_NT.BITS || index.type === TPM_NT.EXTEND) throw new TpmError(TPM_RC.ATTRIBUTES);
      if (offset > index.dataSize) throw TpmError.parameter(TPM_RC.VALUE, 2);
      if (data.length > index.dataSize - offset) throw new TpmError(TPM_RC.NV_RANGE);
      if (index.has(TPMA_NV.WRITEALL) && data.length < index.dataSize) throw new TpmError(TPM_RC.NV_RANGE);
      written(core, index, offset, data);
    },
  }),
  command({
    code: TPM_CC.NV_Increment, name: 'NV_Increment', nv: true,
    handles: [AUTH_NV, NV_INDEX],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h]) {
      const index = indexOf(core, h!);
      checkWriteAccess(authHandle!, index);
      requireType(index, TPM_NT.COUNTER);
      // A new counter starts from the highest value any counter has had (Part 1 §37.2.3).
      const current = index.written ? counterValue(index.data) : core.persistent.nvMaxCounter;
      written(core, index, 0, u64be(current + 1n));
    },
  }),
  command({
    code: TPM_CC.NV_Extend, name: 'NV_Extend', nv: true,
    handles: [AUTH_NV, NV_INDEX],
    params: struct({ data: TPM2B_MAX_NV_BUFFER }),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h], { data }) {
      const index = indexOf(core, h!);
      checkWriteAccess(authHandle!, index);
      requireType(index, TPM_NT.EXTEND);
      const old = index.written ? index.data : new Uint8Array(hashInfo(index.nameAlg)!.digestSize);
      written(core, index, 0, hash(index.nameAlg, old, data));
    },
  }),
  command({
    code: TPM_CC.NV_SetBits, name: 'NV_SetBits', nv: true,
    handles: [AUTH_NV, NV_INDEX],
    params: struct({ bits: UINT64 }),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, h], { bits }) {
      const index = indexOf(core, h!);
      checkWriteAccess(authHandle!, index);
      requireType(index, TPM_NT.BITS);
      const old = index.written ? counterValue(index.data) : 0n;
      written(core, index, 0, u64be(old | bits));
    },
  }),
  lockCommand(TPM_CC.NV_WriteLock, 'NV_WriteLock', checkWriteAccess, TPMA_NV.WRITEDEFINE | TPMA_NV.WRITE_STCLEAR, TPMA_NV.WRITELOCKED),
  command({
    code: TPM_CC.NV_GlobalWriteLock, name: 'NV_GlobalWriteLock', nv: true,
    handles: [{ name: 'authHandle', kind: 'PROVISION', auth: 'USER' }],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }) {
      for (const h of core.nv.handles()) {
        const index = indexOf(core, h);
        if (index.has(TPMA_NV.GLOBALLOCK)) index.set(TPMA_NV.WRITELOCKED);
      }
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.NV_Read, name: 'NV_Read',
    handles: [AUTH_NV, NV_INDEX],
    params: struct({ size: UINT16, offset: UINT16 }),
    response: struct({ data: TPM2B_MAX_NV_BUFFER }),
    handler({ core }, [authHandle, h], { size, offset }) {
      const index = indexOf(core, h!);
      checkReadAccess(authHandle!, index);
      const data = core.nv.read(index, offset, size);
      if (size > LIMITS.NV_BUFFER_MAX) throw TpmError.parameter(TPM_RC.VALUE, 1);
      return { data };
    },
  }),
  lockCommand(TPM_CC.NV_ReadLock, 'NV_ReadLock', checkReadAccess, TPMA_NV.READ_STCLEAR, TPMA_NV.READLOCKED),
  command({
    code: TPM_CC.NV_ChangeAuth, name: 'NV_ChangeAuth', nv: true,
    handles: [{ name: 'nvIndex', kind: 'NV_INDEX', auth: 'ADMIN' }],
    params: struct({ newAuth: TPM2B_AUTH }),
    response: NO_RESPONSE,
    handler({ core }, [h], { newAuth }) {
      const index = indexOf(core, h!);
      const auth = stripTrailingZeros(newAuth);
      if (auth.length > hashInfo(index.nameAlg)!.digestSize) throw TpmError.parameter(TPM_RC.SIZE, 1);
      index.state.authValue = auth.slice();
      core.touchPersistent();
    },
  }),
];
