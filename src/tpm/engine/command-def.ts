/**
 * How a command is declared: once, as data (code, handles and their authorization roles,
 * parameter and response codecs, attributes) plus one handler. The dispatcher, the COMMANDS
 * capability and the trace all read these declarations.
 */
import { type Codec, type Fields, type StructCodec, type StructOf, leadsWithTpm2b } from '../marshal/codec.js';
import type { TpmCore } from './tpm-core.js';

/** TPMI_* handle types the handle area can carry (Part 2 §9), checked at unmarshal (TPM_RC_VALUE). */
export type HandleKind =
  | 'PCR' // TPMI_DH_PCR
  | 'HIERARCHY' // TPMI_RH_HIERARCHY
  | 'HIERARCHY_AUTH' // TPMI_RH_HIERARCHY_AUTH
  | 'PLATFORM' // TPMI_RH_PLATFORM
  | 'CLEAR' // TPMI_RH_CLEAR
  | 'PROVISION' // TPMI_RH_PROVISION
  | 'NV_AUTH' // TPMI_RH_NV_AUTH: owner, platform or an NV index
  | 'NV_INDEX' // TPMI_RH_NV_INDEX
  | 'LOCKOUT' // TPMI_RH_LOCKOUT
  | 'ENDORSEMENT' // TPMI_RH_ENDORSEMENT
  | 'ENTITY' // TPMI_DH_ENTITY
  | 'OBJECT' // TPMI_DH_OBJECT
  | 'PARENT' // TPMI_DH_PARENT: a hierarchy or an object
  | 'CONTEXT' // TPMI_DH_CONTEXT
  | 'HMAC_SESSION' // TPMI_SH_HMAC
  | 'POLICY_SESSION'; // TPMI_SH_POLICY

/** Authorization role of a handle (Part 1 §19.2); absent means the handle needs no authorization. */
export type AuthRole = 'USER' | 'ADMIN' | 'DUP';

export interface HandleSpec {
  name: string;
  kind: HandleKind;
  /** The "+" of TPMI types: TPM_RH_NULL accepted. */
  allowNull?: boolean;
  auth?: AuthRole;
}

export interface CommandContext {
  readonly core: TpmCore;
  readonly locality: number;
  readonly client: number;
  readonly commandCode: number;
}

export interface CommandDef<F extends Fields = Fields, R = unknown> {
  code: number;
  name: string;
  handles: readonly HandleSpec[];
  params: StructCodec<F>;
  response: Codec<R>;
  /** The response carries a handle (TPMA_CC.rHandle); the handler's result supplies it. */
  responseHandle?: (result: R) => number;
  /** TPMA_CC.nv / extensive / flushed. */
  nv?: boolean;
  extensive?: boolean;
  flushed?: boolean;
  /** The command takes no authorization area (ContextSave/Load, FlushContext): TPM_ST_SESSIONS is TPM_RC_AUTH_CONTEXT. */
  noSessions?: boolean;
  handler(ctx: CommandContext, handles: number[], params: StructOf<F>): R;
}

/** A command declaration with its types erased, as the command table holds it. */
export interface AnyCommand {
  code: number;
  name: string;
  handles: readonly HandleSpec[];
  params: StructCodec<Fields>;
  response: Codec<unknown>;
  responseHandle?: (result: unknown) => number;
  nv?: boolean;
  extensive?: boolean;
  flushed?: boolean;
  noSessions?: boolean;
  /**
   * Whether the first command / response parameter is a TPM2B, so that a session may decrypt /
   * encrypt it (the reference's DecryptSize / EncryptSize); derived from the codecs.
   */
  readonly decryptable: boolean;
  readonly encryptable: boolean;
  /** The roles of the handles that need authorization, in order (derived from `handles`). */
  readonly authRoles: readonly AuthRole[];
  handler(ctx: CommandContext, handles: number[], params: Record<string, unknown>): unknown;
}

/** Declares a command; parameter and result types are inferred from the codecs. */
export function command<F extends Fields, R>(def: CommandDef<F, R>): AnyCommand {
  const erased = def as unknown as Omit<AnyCommand, 'decryptable' | 'encryptable' | 'authRoles'>;
  const authRoles = def.handles.flatMap((h) => (h.auth === undefined ? [] : [h.auth]));
  return { ...erased, decryptable: leadsWithTpm2b(def.params), encryptable: leadsWithTpm2b(def.response), authRoles };
}
