/**
 * Primary objects (Part 1 §27.1.2): everything random in them comes from a KDFa stream keyed with
 * the hierarchy's primary seed and bound to the template's Name and inSensitive.data, so the same
 * template under the same seed gives the same key in every process. RSA keys, whose prime search is
 * the one expensive step, are cached in the persistent state under an HMAC of the template keyed
 * with the seed (a seed change makes old entries unreachable; the cache is bounded).
 */
import { TPM_ALG } from '../spec/constants.js';
import { hmac } from '../crypto/hash.js';
import { kdfaStream } from '../crypto/kdf.js';
import { toHex } from '../crypto/bytes.js';
import { publicBytes, type PublicArea, type SensitiveCreate } from '../marshal/object-types.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { objectName } from './tpm-object.js';
import { generateObject, type GeneratedObject } from './object-generation.js';

/** Cached RSA primaries kept at most; the oldest entry goes first. */
export const PRIMARY_CACHE_MAX = 32;

const PRIMARY_LABEL = 'Primary Object Creation';

export function derivePrimary(core: TpmCore, hierarchy: number, template: PublicArea, create: SensitiveCreate): GeneratedObject {
  const seed = core.seed(hierarchy);
  const templateName = objectName(template.nameAlg, publicBytes(template));
  const rng = kdfaStream(template.nameAlg, seed, PRIMARY_LABEL, templateName, create.data);
  if (template.type !== TPM_ALG.RSA) return generateObject(template, create, rng);

  const cache = core.persistent.primaryCache;
  const key = toHex(hmac(TPM_ALG.SHA256, seed, templateName, create.data));
  const hit = cache.get(key);
  if (hit) {
    return {
      publicArea: { ...template, unique: hit.n },
      sensitive: { sensitiveType: TPM_ALG.RSA, authValue: create.userAuth, seedValue: hit.seedValue, sensitive: hit.p },
    };
  }
  const made = generateObject(template, create, rng);
  if (cache.size >= PRIMARY_CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, { n: made.publicArea.unique as Uint8Array, p: made.sensitive.sensitive, seedValue: made.sensitive.seedValue });
  core.touchPersistent();
  return made;
}
