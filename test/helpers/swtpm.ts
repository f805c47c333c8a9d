import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK } from './ports.js';
import { spawnChild, spawnServingOnFreePorts, stopChild, type ServerProcess } from './processes.js';
import { type CtrlSocketServer, waitForUnixSocket } from './mrtpm.js';
import { makeTempDir, removeDir } from './state-dirs.js';

const run = promisify(execFile);

export interface SwtpmOptions {
  /** Active PCR banks, set with swtpm_setup; swtpm's own default is sha1,sha256,sha384,sha512. */
  pcrBanks?: string[];
  /** Default: not-need-init,startup-clear (the TPM is started and needs no CMD_INIT). */
  flags?: string;
  /** swtpm_setup --create-ek-cert: EK certificates in NV from a swtpm_localca CA (see swtpmLocalCaDir). */
  ekCertificates?: boolean;
}

/** A running swtpm (tcti-mssim cannot talk to it: its TCTI is swtpm:). */
export type SwtpmServer = ServerProcess;

/** Where swtpm_localca keeps the CA of a state made with ekCertificates (issuercert.pem, signkey.pem). */
export const swtpmLocalCaDir = (stateDir: string): string => path.join(stateDir, 'localca');

/**
 * swtpm_setup options that create EK certificates with a swtpm_localca whose CA lives in the
 * state directory, not in the machine-wide /var/lib/swtpm-localca of /etc/swtpm-localca.conf.
 */
async function ekCertificateArgs(stateDir: string): Promise<string[]> {
  const ca = swtpmLocalCaDir(stateDir);
  await mkdir(ca);
  const file = (name: string): string => path.join(ca, name);
  await writeFile(file('swtpm-localca.conf'), [
    `statedir = ${ca}`, `signingkey = ${file('signkey.pem')}`, `issuercert = ${file('issuercert.pem')}`, `certserial = ${file('certserial')}`, '',
  ].join('\n'));
  await writeFile(file('swtpm-localca.options'), '');
  await writeFile(file('swtpm_setup.conf'), [
    'create_certs_tool = /usr/bin/swtpm_localca', `create_certs_tool_config = ${file('swtpm-localca.conf')}`,
    `create_certs_tool_options = ${file('swtpm-localca.options')}`, '',
  ].join('\n'));
  return ['--config', file('swtpm_setup.conf'), '--create-ek-cert'];
}

/** Manufactures a TPM 2 state in `stateDir` with only `pcrBanks` active (and EK certificates if asked). */
export async function swtpmSetup(stateDir: string, pcrBanks: string[], ekCertificates = false): Promise<void> {
  const certificates = ekCertificates ? await ekCertificateArgs(stateDir) : [];
  await run('swtpm_setup', ['--tpm2', '--pcr-banks', pcrBanks.join(','), '--tpmstate', stateDir, ...certificates], { timeout: 60000 });
}

/** Starts real swtpm on a free loopback port pair with a fresh state dir. */
export async function startSwtpm(options: SwtpmOptions = {}): Promise<SwtpmServer> {
  const stateDir = await makeTempDir('swtpm-state');
  if (options.pcrBanks || options.ekCertificates) await swtpmSetup(stateDir, options.pcrBanks ?? ['sha256'], options.ekCertificates);
  const args = (port: number): string[] => [
    'socket', '--tpm2',
    '--server', `type=tcp,port=${port},bindaddr=${LOOPBACK}`,
    '--ctrl', `type=tcp,port=${port + 1},bindaddr=${LOOPBACK}`,
    '--tpmstate', `dir=${stateDir}`,
    '--flags', options.flags ?? 'not-need-init,startup-clear',
  ];
  const { child, port } = await spawnServingOnFreePorts('swtpm', 'swtpm', args);
  const ctrlPort = port + 1;
  return {
    port,
    ctrlPort,
    stateDir,
    child,
    tcti: `swtpm:host=${LOOPBACK},port=${port}`,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const status = await stopChild(child, signal);
      await removeDir(stateDir);
      return status;
    },
  };
}

/**
 * Starts real swtpm as QEMU runs it: `swtpm socket --tpm2 --ctrl type=unixio,path=SOCK`, no data
 * socket (the data channel comes by CMD_SET_DATAFD) and no flags (the TPM runs from CMD_INIT).
 */
export async function startSwtpmCtrlUnix(): Promise<CtrlSocketServer> {
  const stateDir = await makeTempDir('swtpm-qemu');
  const ctrlPath = path.join(stateDir, 'ctrl.sock');
  const child = spawnChild('swtpm (ctrl unixio)', 'swtpm', ['socket', '--tpm2', '--ctrl', `type=unixio,path=${ctrlPath}`, '--tpmstate', `dir=${stateDir}`]);
  try {
    await waitForUnixSocket(ctrlPath, child);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    await removeDir(stateDir);
    throw error;
  }
  return {
    ctrlPath, stateDir, child,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const status = await stopChild(child, signal);
      await removeDir(stateDir);
      return status;
    },
  };
}
