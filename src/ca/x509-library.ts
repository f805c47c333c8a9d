/**
 * @peculiar/x509 and the ASN.1 packages it is built on, loaded on first use: loading them
 * costs about 170 ms, which only the runs that issue certificates should pay (not every start of a
 * TPM that has its certificates already). The bundle keeps them external, so these imports stay lazy.
 */
import { webcrypto } from 'node:crypto';

export interface X509Library {
  x509: typeof import('@peculiar/x509');
  asn1X509: typeof import('@peculiar/asn1-x509');
  asn1Schema: typeof import('@peculiar/asn1-schema');
  asn1js: typeof import('asn1js');
}

let library: Promise<X509Library> | undefined;

export function loadX509(): Promise<X509Library> {
  library ??= (async () => {
    // The ASN.1 schema decorators read their metadata through the Reflect API this polyfills.
    await import('reflect-metadata');
    const [x509, asn1X509, asn1Schema, asn1js] = await Promise.all([
      import('@peculiar/x509'), import('@peculiar/asn1-x509'), import('@peculiar/asn1-schema'), import('asn1js'),
    ]);
    x509.cryptoProvider.set(webcrypto as Crypto);
    return { x509, asn1X509, asn1Schema, asn1js };
  })();
  return library;
}
