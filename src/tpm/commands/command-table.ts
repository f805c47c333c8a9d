/** Every command this TPM implements, keyed by TPM_CC, one module per Part 3 chapter. */
import type { AnyCommand } from '../engine/command-def.js';
import { STARTUP_COMMANDS } from './startup.js';
import { TESTING_COMMANDS } from './testing.js';
import { SESSION_COMMANDS } from './session.js';
import { RANDOM_COMMANDS } from './random.js';
import { HASH_COMMANDS } from './hash.js';
import { INTEGRITY_COMMANDS } from './integrity.js';
import { ENHANCED_AUTHORIZATION_COMMANDS } from './enhanced-authorization.js';
import { CONTEXT_COMMANDS } from './context.js';
import { CLOCK_COMMANDS } from './clock.js';
import { DICTIONARY_ATTACK_COMMANDS } from './dictionary-attack.js';
import { CAPABILITY_COMMANDS } from './capability.js';
import { OBJECT_COMMANDS } from './object.js';
import { HIERARCHY_COMMANDS } from './hierarchy.js';
import { ASYMMETRIC_COMMANDS } from './asymmetric.js';
import { EPHEMERAL_ECC_COMMANDS } from './ephemeral-ecc.js';
import { SIGNING_COMMANDS } from './signing.js';
import { SYMMETRIC_COMMANDS } from './symmetric.js';
import { DUPLICATION_COMMANDS } from './duplication.js';
import { NV_COMMANDS } from './nv.js';
import { ATTESTATION_COMMANDS } from './attestation.js';
import { NV_CERTIFY_COMMANDS } from './nv-certify.js';
import { AUDIT_COMMANDS } from './audit.js';
import { CREDENTIAL_COMMANDS } from './credential.js';
import { POLICY_SECRET_COMMANDS } from './policy-secret.js';
import { POLICY_OR_COMMANDS } from './policy-or.js';
import { POLICY_ASSERTION_COMMANDS } from './policy-assertions.js';
import { POLICY_CONDITION_COMMANDS } from './policy-conditions.js';
import { POLICY_SIGNED_COMMANDS } from './policy-signed.js';
import { POLICY_AUTHORIZE_COMMANDS } from './policy-authorize.js';

const ALL: AnyCommand[] = [
  ...STARTUP_COMMANDS,
  ...TESTING_COMMANDS,
  ...SESSION_COMMANDS,
  ...RANDOM_COMMANDS,
  ...HASH_COMMANDS,
  ...INTEGRITY_COMMANDS,
  ...ENHANCED_AUTHORIZATION_COMMANDS,
  ...CONTEXT_COMMANDS,
  ...DICTIONARY_ATTACK_COMMANDS,
  ...CLOCK_COMMANDS,
  ...CAPABILITY_COMMANDS,
  ...OBJECT_COMMANDS,
  ...HIERARCHY_COMMANDS,
  ...ASYMMETRIC_COMMANDS,
  ...EPHEMERAL_ECC_COMMANDS,
  ...SIGNING_COMMANDS,
  ...SYMMETRIC_COMMANDS,
  ...DUPLICATION_COMMANDS,
  ...NV_COMMANDS,
  ...ATTESTATION_COMMANDS,
  ...NV_CERTIFY_COMMANDS,
  ...AUDIT_COMMANDS,
  ...CREDENTIAL_COMMANDS,
  ...POLICY_SECRET_COMMANDS,
  ...POLICY_OR_COMMANDS,
  ...POLICY_ASSERTION_COMMANDS,
  ...POLICY_CONDITION_COMMANDS,
  ...POLICY_SIGNED_COMMANDS,
  ...POLICY_AUTHORIZE_COMMANDS,
];

export const COMMANDS: ReadonlyMap<number, AnyCommand> = new Map(ALL.map((c) => [c.code, c]));
