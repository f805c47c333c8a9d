/**
 * JSON with the value types the TPM state holds (Uint8Array, bigint, Map), so state files stay
 * readable for debugging and versionable without a hand-written codec per field.
 */
function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (value instanceof Map) return { $m: [...value.entries()] };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const t = value as Partial<Record<'$b' | '$n' | '$m', unknown>>;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      if (typeof t.$b === 'string') return new Uint8Array(Buffer.from(t.$b, 'base64'));
      if (typeof t.$n === 'string') return BigInt(t.$n);
      if (Array.isArray(t.$m)) return new Map(t.$m as [unknown, unknown][]);
    }
  }
  return value;
}

export function stateToJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function stateFromJson<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
