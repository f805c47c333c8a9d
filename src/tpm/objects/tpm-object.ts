/**
 * A loaded object (Part 1 §25): its public and sensitive areas, Name and qualified Name, and the
 * hierarchy it belongs to. Names follow Part 1 §16: nameAlg || H_nameAlg(TPMT_PUBLIC).
 */
import { TPM_ALG } from '../spec/constants.js';
import { hash } from '../crypto/hash.js';
import { concatBytes } from '../crypto/bytes.js';
import { type PublicArea, type SensitiveArea, publicBytes } from '../marshal/object-types.js';

export interface TpmObject {
  handle: number;
  publicArea: PublicArea;
  /** The marshaled TPMT_PUBLIC, as the Name hashes it and ReadPublic returns it. */
  publicBytes: Uint8Array;
  sensitive: SensitiveArea;
  name: Uint8Array;
  qualifiedName: Uint8Array;
  /** TPM_RH_OWNER / ENDORSEMENT / PLATFORM / NULL. */
  hierarchy: number;
  /** Owning client of a transient object (resource-manager view); persistent objects have none. */
  client: number;
}

/** Name of a public area: nameAlg || H(TPMT_PUBLIC); a NULL nameAlg (LoadExternal) gives the Empty Buffer. */
export function objectName(nameAlg: number, pub: Uint8Array): Uint8Array {
  if (nameAlg === TPM_ALG.NULL) return new Uint8Array(0);
  return concatBytes(Uint8Array.of(nameAlg >> 8, nameAlg & 0xff), hash(nameAlg, pub));
}

/** Qualified Name (Part 1 §16.6): nameAlg || H(parent's qualified Name || Name). */
export function qualifiedName(nameAlg: number, parentQualifiedName: Uint8Array, name: Uint8Array): Uint8Array {
  if (nameAlg === TPM_ALG.NULL) return new Uint8Array(0);
  return concatBytes(Uint8Array.of(nameAlg >> 8, nameAlg & 0xff), hash(nameAlg, parentQualifiedName, name));
}

/** The Name of a hierarchy, and its qualified Name: the handle (Part 1 §16). */
export function handleName(handle: number): Uint8Array {
  return Uint8Array.of(handle >>> 24, (handle >>> 16) & 0xff, (handle >>> 8) & 0xff, handle & 0xff);
}

/** The marshaled public area and the Name computed from it. */
export function publicIdentity(publicArea: PublicArea): { publicBytes: Uint8Array; name: Uint8Array } {
  const bytes = publicBytes(publicArea);
  return { publicBytes: bytes, name: objectName(publicArea.nameAlg, bytes) };
}

/** Builds the object from its areas (and their identity, if the caller has it); handle and client are assigned when it is loaded. */
export function makeObject(
  publicArea: PublicArea, sensitive: SensitiveArea, hierarchy: number, parentQualifiedName: Uint8Array,
  identity = publicIdentity(publicArea),
): Omit<TpmObject, 'handle' | 'client'> {
  return {
    publicArea, ...identity, sensitive,
    qualifiedName: qualifiedName(publicArea.nameAlg, parentQualifiedName, identity.name),
    hierarchy,
  };
}
