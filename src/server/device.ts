/**
 * What a transport needs from the TPM it serves. The CLI composes the engine (and tracing,
 * persistence) into one of these; servers never import the engine directly.
 */
export type ClientId = number;

/** Platform signals of the mssim platform port and the swtpm control channel. */
export type PlatformSignal =
  | 'powerOn' | 'powerOff' | 'reset' | 'restart'
  | 'nvOn' | 'nvOff' | 'cancelOn' | 'cancelOff'
  | 'physPresOn' | 'physPresOff' | 'keyCacheOn' | 'keyCacheOff'
  | 'hashStart' | 'hashEnd' | 'testFailure';

/** The parts of the TPM state swtpm moves separately (CMD_GET/SET_STATEBLOB). */
export type StateBlobType = 'permanent' | 'volatile' | 'savestate';

export interface TpmDevice {
  /** Run one TPM command; always returns a well-formed TPM response (never throws). */
  execute(command: Uint8Array, locality: number, client: ClientId): Uint8Array;
  signal(signal: PlatformSignal): void;
  /** _TPM_Hash_Data */
  hashData(data: Uint8Array): void;
  readonly poweredOn: boolean;
  /** TPM_ACCESS.tpmEstablishment as swtpm reports it. */
  readonly established: boolean;
  resetEstablished(locality: number): void;
  /** A new client (resource-manager view); its loaded sessions/transients die with it. */
  openClient(): ClientId;
  closeClient(client: ClientId): void;
  /**
   * swtpm CMD_GET_STATEBLOB: one part of the state in this TPM's own serialisation (not libtpms'
   * blobs); undefined when the part does not exist.
   */
  stateBlob(type: StateBlobType): Uint8Array | undefined;
  /**
   * swtpm CMD_SET_STATEBLOB, while powered off: the permanent part replaces the state now, the
   * volatile part is what the next power-on resumes; empty clears the part. False: not such a blob.
   */
  setStateBlob(type: StateBlobType, blob: Uint8Array): boolean;
}
