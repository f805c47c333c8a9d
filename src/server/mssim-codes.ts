import type { PlatformSignal } from './device.js';

/** Command codes of the Microsoft simulator sockets (TpmTcpProtocol.h). */
export const MSSIM = {
  SIGNAL_POWER_ON: 1,
  SIGNAL_POWER_OFF: 2,
  SIGNAL_PHYS_PRES_ON: 3,
  SIGNAL_PHYS_PRES_OFF: 4,
  SIGNAL_HASH_START: 5,
  SIGNAL_HASH_DATA: 6,
  SIGNAL_HASH_END: 7,
  SEND_COMMAND: 8,
  SIGNAL_CANCEL_ON: 9,
  SIGNAL_CANCEL_OFF: 10,
  SIGNAL_NV_ON: 11,
  SIGNAL_NV_OFF: 12,
  SIGNAL_KEY_CACHE_ON: 13,
  SIGNAL_KEY_CACHE_OFF: 14,
  REMOTE_HANDSHAKE: 15,
  SET_ALTERNATIVE_RESULT: 16,
  SIGNAL_RESET: 17,
  SIGNAL_RESTART: 18,
  SESSION_END: 20,
  STOP: 21,
  GET_COMMAND_RESPONSE_SIZES: 25,
  ACT_GET_SIGNALED: 26,
  TEST_FAILURE_MODE: 30,
} as const;

/** Platform-port codes that are a bare platform signal acknowledged with u32 0. */
export const PLATFORM_SIGNALS: ReadonlyMap<number, PlatformSignal> = new Map([
  [MSSIM.SIGNAL_POWER_ON, 'powerOn'],
  [MSSIM.SIGNAL_POWER_OFF, 'powerOff'],
  [MSSIM.SIGNAL_PHYS_PRES_ON, 'physPresOn'],
  [MSSIM.SIGNAL_PHYS_PRES_OFF, 'physPresOff'],
  [MSSIM.SIGNAL_CANCEL_ON, 'cancelOn'],
  [MSSIM.SIGNAL_CANCEL_OFF, 'cancelOff'],
  [MSSIM.SIGNAL_NV_ON, 'nvOn'],
  [MSSIM.SIGNAL_NV_OFF, 'nvOff'],
  [MSSIM.SIGNAL_KEY_CACHE_ON, 'keyCacheOn'],
  [MSSIM.SIGNAL_KEY_CACHE_OFF, 'keyCacheOff'],
  [MSSIM.SIGNAL_RESET, 'reset'],
  [MSSIM.SIGNAL_RESTART, 'restart'],
  [MSSIM.TEST_FAILURE_MODE, 'testFailure'],
]);

/** TPM_REMOTE_HANDSHAKE answer: server version 1 and the simulator's flags. */
export const HANDSHAKE_SERVER_VERSION = 1;
const TPM_PLATFORM_AVAILABLE = 0x01;
const TPM_IN_RAW_MODE = 0x04;
const TPM_SUPPORTS_PP = 0x08;
export const HANDSHAKE_FLAGS = TPM_PLATFORM_AVAILABLE | TPM_IN_RAW_MODE | TPM_SUPPORTS_PP;

/** Answer of an unknown platform-port code before the connection is closed. */
export const PLATFORM_UNKNOWN_CODE_REPLY = 1;
