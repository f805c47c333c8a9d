/**
 * The TPM: `execute(command bytes) -> response bytes`, and the platform's power signals.
 * Pure: no sockets, files or clocks of its own (the host supplies time and persistence).
 */
import { TPM_CC, ccName } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError, renumbered, rcHandle, rcParameter } from '../spec/tpm-rc.js';
import { TPM_ST, TPM_RH, TPMA_SESSION } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { Reader } from '../marshal/reader.js';
import { Writer } from '../marshal/writer.js';
import type { PersistentState, VolatileState } from '../state/tpm-state.js';
import { TpmCore, type CoreHost } from './tpm-core.js';
import type { AnyCommand, CommandContext } from './command-def.js';
import { HANDLE_KINDS } from './handle-kinds.js';
import { COMMANDS } from '../commands/command-table.js';
import {
  parseAuthArea, checkAuthorizations, sealResponseParameters, writeResponseAuth, sessionWith, type CommandSession,
} from '../auth/authorization.js';
import { auditAfter, auditBefore } from '../audit/audit-record.js';
import { decryptCommandParameter } from '../auth/parameter-encryption.js';
import { daSelfHeal } from '../auth/dictionary-attack.js';
import { powerOnVolatile } from '../state/initial-state.js';
import { CrtmSequence } from '../pcr/crtm-sequence.js';

export interface ExecuteResult {
  response: Uint8Array;
  commandCode: number;
  responseCode: number;
}

const NO_SESSIONS: readonly CommandSession[] = [];

function errorResponse(rc: number): Uint8Array {
  const w = new Writer(10);
  w.u16(TPM_ST.NO_SESSIONS).u32(10).u32(rc);
  return w.finish();
}

export class Tpm {
  private core: TpmCore;
  private powered: boolean;
  private crtm: CrtmSequence | undefined;
  /** The response buffer, reused by every command (execute is synchronous); finish() copies out. */
  private readonly out = new Writer(1024);

  constructor(persistent: PersistentState, volatile: VolatileState | undefined, private readonly host: CoreHost) {
    this.powered = volatile !== undefined;
    this.core = new TpmCore(persistent, volatile ?? powerOnVolatile(), host);
  }

  get poweredOn(): boolean {
    return this.powered;
  }
  get persistent(): PersistentState {
    return this.core.persistent;
  }
  get volatile(): VolatileState {
    return this.core.volatile;
  }
  get tpmCore(): TpmCore {
    return this.core;
  }

  /** _TPM_Init after power-on: the TPM needs Startup. Ignored while powered (as the simulator does). */
  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    this.init();
  }

  /** Power loss: everything volatile is gone (Shutdown(STATE) data lives in persistent state). */
  powerOff(): void {
    this.powered = false;
  }

  /** _TPM_Init while powered (mssim RESET, swtpm CMD_INIT). The physical presence pin keeps its state. */
  init(): void {
    const { physicalPresence } = this.core;
    this.core = new TpmCore(this.core.persistent, powerOnVolatile(), this.host);
    this.core.physicalPresence = physicalPresence;
  }

  /**
   * Power-on into a saved volatile state instead of _TPM_Init: a migrated or snapshot TPM resumes
   * where it was (swtpm CMD_SET_STATEBLOB, then CMD_INIT). Ignored while powered.
   */
  resume(volatile: VolatileState): void {
    if (this.powered) return;
    this.powered = true;
    this.core = new TpmCore(this.core.persistent, volatile, this.host);
  }

  /** Another TPM's persistent state, taken while powered off (swtpm CMD_SET_STATEBLOB). */
  replacePersistent(persistent: PersistentState): void {
    if (this.powered) throw new Error('the persistent state can only be replaced while powered off');
    this.core = new TpmCore(persistent, powerOnVolatile(), this.host);
  }

  /** The platform asserts or releases physical presence (mssim SIGNAL_PHYS_PRES_ON / OFF). */
  setPhysicalPresence(asserted: boolean): void {
    this.core.physicalPresence = asserted;
  }

  /** _TPM_Hash_Start: a new H-CRTM/DRTM measurement over the allocated banks. */
  hashStart(): void {
    this.crtm = new CrtmSequence(this.core.pcrs.allocation.map((b) => b.hash));
  }
  hashData(data: Uint8Array): void {
    this.crtm?.update(data);
  }
  hashEnd(): void {
    this.crtm?.end(this.core);
    this.crtm = undefined;
  }

  /** Resource-manager view: a client's transient objects and loaded sessions die with it. */
  closeClient(client: number): void {
    this.core.sequences.flushClient(client);
    this.core.objects.flushClient(client);
    this.core.sessions.flushClient(client);
  }

  /**
   * Runs one command. Parameters are read as views of `command`, and loaded objects may keep them
   * (templates, sealed data, authValues), so the caller must not write into the buffer afterwards;
   * the servers hand over each frame in a buffer of its own.
   */
  execute(command: Uint8Array, locality = 0, client = 0): ExecuteResult {
    let cc = 0;
    try {
      // A plain view even of a Buffer: every field read from it is then a plain, cheaper subarray.
      const r = new Reader(new Uint8Array(command.buffer, command.byteOffset, command.byteLength));
      const tag = r.u16();
      if (tag !== TPM_ST.SESSIONS && tag !== TPM_ST.NO_SESSIONS) throw new TpmError(TPM_RC.BAD_TAG);
      const size = r.u32();
      if (size !== command.length || size > LIMITS.MAX_COMMAND_SIZE) throw new TpmError(TPM_RC.COMMAND_SIZE);
      cc = r.u32();
      this.core.tick();
      if (!this.core.volatile.started && cc !== TPM_CC.Startup) throw new TpmError(TPM_RC.INITIALIZE);
      // Time moved: dictionary-attack failures heal (before Startup the DA state is not yet known).
      if (this.core.volatile.started) daSelfHeal(this.core);
      const def = COMMANDS.get(cc);
      if (!def) throw new TpmError(TPM_RC.COMMAND_CODE);
      const response = this.dispatch(def, tag, r, locality, client);
      this.core.flushPersistent();
      return { response, commandCode: cc, responseCode: TPM_RC.SUCCESS };
    } catch (e) {
      this.core.flushPersistent();
      const rc = e instanceof TpmError ? e.rc : TPM_RC.FAILURE;
      return { response: errorResponse(rc), commandCode: cc, responseCode: rc };
    }
  }

  /** Loops rather than callbacks: this runs for every command, and closures per call cost. */
  private dispatch(def: AnyCommand, tag: number, r: Reader, locality: number, client: number): Uint8Array {
    const core = this.core;
    const handles: number[] = [];
    const authHandles: number[] = [];
    for (let i = 0; i < def.handles.length; i++) {
      const spec = def.handles[i]!;
      try {
        const h = r.u32();
        if (!(HANDLE_KINDS[spec.kind](h) || (spec.allowNull && h === TPM_RH.NULL))) throw new TpmError(TPM_RC.VALUE);
        handles.push(h);
        if (spec.auth !== undefined) authHandles.push(h);
      } catch (e) {
        throw renumbered(e, (rc) => rcHandle(rc, i + 1));
      }
    }
    for (let i = 0; i < handles.length; i++) {
      try {
        core.requirePresent(handles[i]!);
        if (!core.hierarchyEnabled(handles[i]!)) throw new TpmError(TPM_RC.HIERARCHY);
      } catch (e) {
        throw renumbered(e, (rc) => rcHandle(rc, i + 1));
      }
    }
    let sessions: readonly CommandSession[] = NO_SESSIONS;
    if (tag === TPM_ST.SESSIONS && def.noSessions) throw new TpmError(TPM_RC.AUTH_CONTEXT);
    if (tag === TPM_ST.SESSIONS) sessions = parseAuthArea(r, core, def);
    if (sessions.length < authHandles.length) throw new TpmError(TPM_RC.AUTH_MISSING);
    let pr = r;
    // cpHash covers the parameters as sent; a decrypt session's parameter is decrypted only after every check.
    const parameterBytes = r.buf.subarray(r.position);
    if (sessions.length > 0) {
      checkAuthorizations(core, sessions, authHandles, def.authRoles, {
        commandCode: def.code,
        handles,
        parameters: parameterBytes,
        pcrUpdateCounter: core.volatile.pcrUpdateCounter,
        locality,
      });
      const d = sessionWith(sessions, TPMA_SESSION.decrypt);
      if (d >= 0) pr = new Reader(decryptCommandParameter(core, sessions[d]!, d + 1, parameterBytes));
    }
    const params: Record<string, unknown> = {};
    const entries = def.params.entries;
    for (let i = 0; i < entries.length; i++) {
      try {
        params[entries[i]![0]] = entries[i]![1].read(pr);
      } catch (e) {
        throw renumbered(e, (rc) => rcParameter(rc, i + 1));
      }
    }
    if (pr.remaining !== 0) throw new TpmError(TPM_RC.SIZE);

    const audit = auditBefore(core, def.code, handles, parameterBytes, sessions);
    const ctx: CommandContext = { core, locality, client, commandCode: def.code };
    const result = def.handler(ctx, handles, params);

    // Header, then parameters written in place; with sessions, parameterSize is patched after them.
    const w = this.out.reset();
    w.u16(tag).u32(0).u32(TPM_RC.SUCCESS);
    if (def.responseHandle) w.u32(def.responseHandle(result));
    if (tag === TPM_ST.SESSIONS) {
      const sizeAt = w.length;
      w.u32(0);
      def.response.write(w, result);
      w.patchU32(sizeAt, w.length - sizeAt - 4);
      const responseParameters = w.since(sizeAt + 4);
      sealResponseParameters(core, sessions, responseParameters);
      auditAfter(core, audit, sessions, def.code, !def.noSessions, responseParameters);
      writeResponseAuth(core, w, sessions, def.code, responseParameters);
    } else {
      const at = w.length;
      def.response.write(w, result);
      auditAfter(core, audit, sessions, def.code, !def.noSessions, w.since(at));
    }
    w.patchU32(2, w.length);
    return w.finish();
  }
}

export { ccName };
