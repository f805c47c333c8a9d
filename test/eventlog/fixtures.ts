/**
 * A CC event log written out byte by byte from the layouts in TCG PC Client PFP
 * (TCG_PCR_EVENT + TCG_EfiSpecIDEventStruct) and edk2 CcMeasurement.h (CC_EVENT), as listed in
 * /work/shared/reference/measurement-registers.md §4.2, so tests check the codec against the
 * layout rather than against itself. All integers little-endian.
 */

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

export const SHA384 = 0x000c;
export const SHA256 = 0x000b;

/** SHA-384("mrtpm event 1"), SHA-256("cca"), SHA-384("firmware") (openssl dgst). */
export const D1_SHA384 = 'b49110de1c9bf80802a480abb600ed9980c508de9328e183377d3cecf22fa203bede58e2e228c5a3afeb4e6d1e3b29c9';
export const E_SHA256 = 'a3b0a710a24ef722589a16b27b808a9731e2211e47dab65cbc9bb0d4dc219339';
export const D3_SHA384 = 'bbf7209c1a756b2747bba45f37c0244e5d5e9d03231528d52223b7303d0d157a209a54370f245c3fedc3f3bd96795e95';

/** Spec ID record for SHA-384 and SHA-256 with vendorInfo "ab": 32-byte header + 39-byte struct. */
export const SPEC_ID_RECORD_HEX = [
  '00000000', // PCRIndex 0
  '03000000', // EventType EV_NO_ACTION
  '00'.repeat(20), // SHA-1 digest: zeros
  '27000000', // EventSize 39 = 16 + 4 + 4 + 4 + 2*4 + 1 + 2
  '5370656320494420457665 6e74303300', // signature "Spec ID Event03\0"
  '00000000', // platformClass 0 (client)
  '00', // specVersionMinor 0
  '02', // specVersionMajor 2
  '00', // specErrata 0
  '02', // uintnSize 2 (UINT64)
  '02000000', // numberOfAlgorithms 2
  '0c00 3000', // TPM_ALG_SHA384, 48
  '0b00 2000', // TPM_ALG_SHA256, 32
  '02', // vendorInfoSize 2
  '6162', // vendorInfo "ab"
]
  .join('')
  .replace(/\s+/g, '');
export const SPEC_ID_LENGTH = 71;

/** CC_EVENT at offset 71: CC MR 4, EV_EVENT_TAG, SHA-384 and SHA-256 digests, event "hello". */
export const RECORD1_HEX = [
  '04000000', // MrIndex 4 (TDX RTMR3)
  '06000000', // EventType EV_EVENT_TAG
  '02000000', // digest count 2
  '0c00',
  D1_SHA384,
  '0b00',
  E_SHA256,
  '05000000', // EventSize 5
  '68656c6c6f', // "hello"
].join('');
export const RECORD1_LENGTH = 4 + 4 + 4 + 2 + 48 + 2 + 32 + 4 + 5;

/** CC_EVENT at offset 71 + 105: CC MR 1, EV_EFI_ACTION, only a SHA-384 digest, empty event. */
export const RECORD2_HEX = [
  '01000000', // MrIndex 1 (TDX RTMR0)
  '07000080', // EventType EV_EFI_ACTION 0x80000007
  '01000000', // digest count 1
  '0c00',
  D3_SHA384,
  '00000000', // EventSize 0
].join('');
export const RECORD2_LENGTH = 4 + 4 + 4 + 2 + 48 + 4;

export const LOG_HEX = SPEC_ID_RECORD_HEX + RECORD1_HEX + RECORD2_HEX;
export const RECORD_ENDS = [SPEC_ID_LENGTH, SPEC_ID_LENGTH + RECORD1_LENGTH, SPEC_ID_LENGTH + RECORD1_LENGTH + RECORD2_LENGTH];
