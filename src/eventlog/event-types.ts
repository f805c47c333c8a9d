/**
 * TCG event types (PC Client Platform Firmware Profile, "Events" table; the same numbers edk2's
 * UefiTcgPlatform.h defines). CC event logs reuse them unchanged. The table is complete enough
 * to name every type a TDVF / Arm CCA firmware CCEL carries, so `mr log --json` stays readable.
 */
export const EVENT_TYPES = {
  EV_PREBOOT_CERT: 0x0,
  EV_POST_CODE: 0x1,
  EV_UNUSED: 0x2,
  EV_NO_ACTION: 0x3,
  EV_SEPARATOR: 0x4,
  EV_ACTION: 0x5,
  EV_EVENT_TAG: 0x6,
  EV_S_CRTM_CONTENTS: 0x7,
  EV_S_CRTM_VERSION: 0x8,
  EV_CPU_MICROCODE: 0x9,
  EV_PLATFORM_CONFIG_FLAGS: 0xa,
  EV_TABLE_OF_DEVICES: 0xb,
  EV_COMPACT_HASH: 0xc,
  EV_IPL: 0xd,
  EV_IPL_PARTITION_DATA: 0xe,
  EV_NONHOST_CODE: 0xf,
  EV_NONHOST_CONFIG: 0x10,
  EV_NONHOST_INFO: 0x11,
  EV_OMIT_BOOT_DEVICE_EVENTS: 0x12,
  EV_EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
  EV_EFI_VARIABLE_BOOT: 0x80000002,
  EV_EFI_BOOT_SERVICES_APPLICATION: 0x80000003,
  EV_EFI_BOOT_SERVICES_DRIVER: 0x80000004,
  EV_EFI_RUNTIME_SERVICES_DRIVER: 0x80000005,
  EV_EFI_GPT_EVENT: 0x80000006,
  EV_EFI_ACTION: 0x80000007,
  EV_EFI_PLATFORM_FIRMWARE_BLOB: 0x80000008,
  EV_EFI_HANDOFF_TABLES: 0x80000009,
  EV_EFI_PLATFORM_FIRMWARE_BLOB2: 0x8000000a,
  EV_EFI_HANDOFF_TABLES2: 0x8000000b,
  EV_EFI_VARIABLE_BOOT2: 0x8000000c,
  EV_EFI_HCRTM_EVENT: 0x80000010,
  EV_EFI_VARIABLE_AUTHORITY: 0x800000e0,
  EV_EFI_SPDM_FIRMWARE_BLOB: 0x800000e1,
  EV_EFI_SPDM_FIRMWARE_CONFIG: 0x800000e2,
  EV_EFI_SPDM_DEVICE_POLICY: 0x800000e3,
  EV_EFI_SPDM_DEVICE_AUTHORITY: 0x800000e4,
} as const;

/** The types mrtpm's own code writes or treats specially. */
export const { EV_NO_ACTION, EV_EVENT_TAG, EV_EFI_HCRTM_EVENT } = EVENT_TYPES;

const NAMES = new Map<number, string>(Object.entries(EVENT_TYPES).map(([name, value]) => [value, name]));

/** "EV_NO_ACTION" etc., or undefined for a type outside the table. */
export const knownEventTypeName = (eventType: number): string | undefined => NAMES.get(eventType);

/** "EV_NO_ACTION" etc.; a type outside the table as 8-digit hex ("0x0000abcd"). */
export function eventTypeName(eventType: number): string {
  return knownEventTypeName(eventType) ?? `0x${eventType.toString(16).padStart(8, '0')}`;
}
