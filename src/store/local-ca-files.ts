/**
 * The local EK CA in a state directory: its private key (PKCS#8) and self-signed certificate, both
 * PEM, mode 0600 like every state file. Written under the state directory's lock by whoever issues
 * EK certificates; read by anyone (`mrtpm ca`), as each file is replaced atomically.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { join, resolve } from 'node:path';
import { readIfExists, writeDurable } from './durable-file.js';

const KEY = 'ek-ca-key.pem';
const CERT = 'ek-ca-cert.pem';

export interface LocalCaPem {
  /** PKCS#8 private key. */
  key: string;
  certificate: string;
}

export class LocalCaFiles {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = resolve(stateDir);
  }

  /**
   * Both files, or undefined unless both are there and belong together: a crash between the two
   * writes leaves a key without its certificate, and the caller then makes a new CA.
   */
  load(): LocalCaPem | undefined {
    const key = readIfExists(join(this.dir, KEY))?.toString('utf8');
    const certificate = this.loadCertificate();
    if (!key || !certificate) return undefined;
    const certified = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
    const held = createPublicKey(key).export({ type: 'spki', format: 'der' });
    return certified.equals(held) ? { key, certificate } : undefined;
  }

  loadCertificate(): string | undefined {
    return readIfExists(join(this.dir, CERT))?.toString('utf8');
  }

  save(ca: LocalCaPem): void {
    writeDurable(join(this.dir, KEY), ca.key);
    writeDurable(join(this.dir, CERT), ca.certificate);
  }
}
