/**
 * Part 3 §19, ephemeral EC keys: Commit (the first half of an ECDAA signature) and EC_Ephemeral
 * (the first half of ZGen_2Phase). Each commits the counter value whose r the second half derives
 * again. The order of the checks, and so which error wins, follows the reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { UINT16, struct } from '../marshal/codec.js';
import { TPM2B_SENSITIVE_DATA } from '../marshal/types.js';
import { TPM2B_ECC_PARAMETER, TPM2B_ECC_POINT, type EccPoint } from '../marshal/object-types.js';
import { TPMI_ECC_CURVE } from '../marshal/public-parms-types.js';
import { command } from '../engine/command-def.js';
import { hash } from '../crypto/hash.js';
import { fromBigInt, toBigInt } from '../crypto/big-endian-int.js';
import { eccCoordinateBytes, eccPublicPoint, isPointOnCurve } from '../crypto/ecc.js';
import { ecdhPoint } from '../crypto/ecdh-point.js';
import { eccCurve, type EccCurve } from '../capability/ecc-curves.js';
import { curveOf } from '../objects/key-objects.js';
import { commit, nextCommitR } from '../commit/commitments.js';

const EMPTY_POINT: EccPoint = { x: new Uint8Array(0), y: new Uint8Array(0) };

/** k * P for a secret k in [1, n - 1] and P on the curve; G when P is absent. */
const times = (curve: EccCurve, k: Uint8Array, p?: EccPoint): EccPoint => (p ? ecdhPoint(curve, k, p) : eccPublicPoint(curve, k));

export const EPHEMERAL_ECC_COMMANDS = [
  command({
    code: TPM_CC.Commit, name: 'Commit',
    handles: [{ name: 'signHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ P1: TPM2B_ECC_POINT, s2: TPM2B_SENSITIVE_DATA, y2: TPM2B_ECC_PARAMETER }),
    response: struct({ K: TPM2B_ECC_POINT, L: TPM2B_ECC_POINT, E: TPM2B_ECC_POINT, counter: UINT16 }),
    handler(ctx, [h], { P1, s2, y2 }) {
      const key = ctx.core.object(h!);
      const pub = key.publicArea;
      if (pub.type !== TPM_ALG.ECC) throw TpmError.handle(TPM_RC.KEY, 1);
      // Only an anonymous scheme commits; a sign + decrypt key has no scheme at all.
      if (pub.parameters.scheme.scheme !== TPM_ALG.ECDAA) throw TpmError.handle(TPM_RC.SCHEME, 1);
      if ((s2.length === 0) !== (y2.length === 0)) throw TpmError.parameter(TPM_RC.SIZE, 3);
      const curve = curveOf(pub);
      const commitState = ctx.core.persistent.commit;
      const r = nextCommitR(commitState, curve, key.name);
      if (!r) throw new TpmError(TPM_RC.NO_RESULT);
      // P2 = (H_nameAlg(s2) mod p, y2): the point K = [d]P2 and L = [r]P2 are computed on.
      let P2: EccPoint | undefined;
      if (s2.length !== 0) {
        // A key loaded without a Name (nameAlg NULL) has no hash to map s2 with.
        if (pub.nameAlg === TPM_ALG.NULL) throw TpmError.handle(TPM_RC.HASH, 1);
        P2 = { x: fromBigInt(toBigInt(hash(pub.nameAlg, s2)) % curve.prime, eccCoordinateBytes(curve)), y: y2 };
        if (!isPointOnCurve(curve, P2)) throw TpmError.parameter(TPM_RC.ECC_POINT, 2);
        if (key.sensitive.sensitive.length === 0) throw TpmError.handle(TPM_RC.KEY, 1);
      }
      // An empty P1 (both coordinates empty) is absent: then E = [r]G, or nothing if P2 is there.
      const M = P1.x.length + P1.y.length > 0 ? P1 : undefined;
      if (M && !isPointOnCurve(curve, M)) throw TpmError.parameter(TPM_RC.ECC_POINT, 1);
      const K = P2 ? times(curve, key.sensitive.sensitive, P2) : EMPTY_POINT;
      const L = P2 ? times(curve, r, P2) : EMPTY_POINT;
      const E = M || !P2 ? times(curve, r, M) : EMPTY_POINT;
      const counter = commit(commitState);
      ctx.core.touchPersistent();
      return { K, L, E, counter };
    },
  }),
  command({
    code: TPM_CC.EC_Ephemeral, name: 'EC_Ephemeral',
    handles: [],
    params: struct({ curveID: TPMI_ECC_CURVE }),
    response: struct({ Q: TPM2B_ECC_POINT, counter: UINT16 }),
    handler(ctx, _h, { curveID }) {
      const curve = eccCurve(curveID)!;
      const commitState = ctx.core.persistent.commit;
      // No key: r belongs to no Name; ZGen_2Phase derives it again with none.
      const r = nextCommitR(commitState, curve, new Uint8Array(0));
      if (!r) throw new TpmError(TPM_RC.NO_RESULT);
      const Q = times(curve, r);
      const counter = commit(commitState);
      ctx.core.touchPersistent();
      return { Q, counter };
    },
  }),
];
