/**
 * Owns the simulated hardware of a machine (chassis, SMBIOS serial numbers, asset tag, MAC address, OS build) drawn
 * from the seed, and the HardwareID rule `2:` + SHA-1 of the UTF-16LE string `enclosure!asset!board!bios!mac`
 * (protocol.md §3; the community reconstruction). On a laptop the MAC is replaced by `<Not used on laptop>`.
 */
import { createHash } from 'node:crypto';
import type { Random } from '../clock/random.js';

export interface MachineHardware {
  vendor: string;
  model: string;
  laptop: boolean;
  enclosureSerial: string;
  assetTag: string;
  boardSerial: string;
  biosSerial: string;
  macAddress: string;
  /** The product name and build written in ccmsetup.log's "Running on" line. */
  osName: string;
  osVersion: string;
}

export const NOT_USED_ON_LAPTOP = '<Not used on laptop>';

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
const DIGITS = '0123456789';

function chars(random: Random, alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[random.int(0, alphabet.length - 1)];
  return out;
}

function mac(random: Random, oui: string): string {
  const tail = random.bytes(3).toString('hex').toUpperCase();
  return `${oui}:${tail.slice(0, 2)}:${tail.slice(2, 4)}:${tail.slice(4, 6)}`;
}

const OS_BUILDS: ReadonlyArray<{ name: string; version: string }> = [
  { name: 'Microsoft Windows 11 Enterprise', version: '10.0.22631' },
  { name: 'Microsoft Windows 11 Enterprise', version: '10.0.26100' },
  { name: 'Microsoft Windows 10 Enterprise', version: '10.0.19045' },
  { name: 'Microsoft Windows 11 Pro', version: '10.0.22631' },
];

/** Realistic serial formats per vendor: Dell service tags, HP and Lenovo serials, Hyper-V and VMware VMs. */
export function drawHardware(random: Random): MachineHardware {
  const os = random.pick(OS_BUILDS);
  const kind = random.int(0, 4);
  switch (kind) {
    case 0: {
      const tag = chars(random, ALNUM, 7);
      return {
        vendor: 'Dell Inc.',
        model: random.pick(['Latitude 5440', 'Latitude 7450', 'OptiPlex 7010']),
        laptop: random.chance(0.6),
        enclosureSerial: tag,
        assetTag: '',
        boardSerial: `/${tag}/CNCMK00${chars(random, DIGITS, 4)}${chars(random, ALNUM, 3)}/`,
        biosSerial: tag,
        macAddress: mac(random, random.pick(['B0:7B:25', 'D0:8E:79', '98:E7:43'])),
        osName: os.name,
        osVersion: os.version,
      };
    }
    case 1: {
      const serial = `5CG${chars(random, DIGITS, 3)}${chars(random, ALNUM, 4)}`;
      return {
        vendor: 'HP',
        model: random.pick(['HP EliteBook 840 G10', 'HP ProBook 450 G9', 'HP EliteDesk 800 G8']),
        laptop: random.chance(0.7),
        enclosureSerial: serial,
        assetTag: random.chance(0.5) ? serial : '',
        boardSerial: `PKD${chars(random, ALNUM, 11)}`,
        biosSerial: serial,
        macAddress: mac(random, random.pick(['64:4E:D7', 'F4:39:09', '38:CA:84'])),
        osName: os.name,
        osVersion: os.version,
      };
    }
    case 2: {
      const serial = `PF${chars(random, ALNUM, 6)}`;
      return {
        vendor: 'LENOVO',
        model: random.pick(['21HD', '20XW', '21CB']),
        laptop: true,
        enclosureSerial: serial,
        assetTag: 'No Asset Information',
        boardSerial: `L1HF${chars(random, ALNUM, 9)}`,
        biosSerial: serial,
        macAddress: mac(random, random.pick(['8C:8C:AA', 'E8:80:88', '54:05:DB'])),
        osName: os.name,
        osVersion: os.version,
      };
    }
    case 3: {
      const serial = `${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 4)}-${chars(random, DIGITS, 2)}`;
      return {
        vendor: 'Microsoft Corporation',
        model: 'Virtual Machine',
        laptop: false,
        enclosureSerial: serial,
        assetTag: serial,
        boardSerial: serial,
        biosSerial: serial,
        macAddress: mac(random, '00:15:5D'),
        osName: os.name,
        osVersion: os.version,
      };
    }
    default: {
      const b = random.bytes(16).toString('hex');
      const pairs = (s: string): string => s.match(/../g)!.join(' ');
      const serial = `VMware-${pairs(b.slice(0, 16))}-${pairs(b.slice(16))}`;
      return {
        vendor: 'VMware, Inc.',
        model: 'VMware7,1',
        laptop: false,
        enclosureSerial: 'None',
        assetTag: 'No Asset Tag',
        boardSerial: 'None',
        biosSerial: serial,
        macAddress: mac(random, '00:50:56'),
        osName: os.name,
        osVersion: os.version,
      };
    }
  }
}

/** The five inputs in the order the HardwareID joins them. */
export function hardwareIdInputs(hw: MachineHardware): Array<[string, string]> {
  return [
    ['Win32_SystemEnclosure.SerialNumber', hw.enclosureSerial],
    ['Win32_SystemEnclosure.SMBIOSAssetTag', hw.assetTag],
    ['Win32_BaseBoard.SerialNumber', hw.boardSerial],
    ['Win32_BIOS.SerialNumber', hw.biosSerial],
    ['Win32_NetworkAdapterConfiguration.MACAddress', hw.laptop ? NOT_USED_ON_LAPTOP : hw.macAddress],
  ];
}

/** `2:` + upper-case hex SHA-1 of UTF-16LE(`encl!asset!board!bios!mac`). */
export function computeHardwareId(hw: MachineHardware): string {
  const joined = hardwareIdInputs(hw)
    .map(([, v]) => v)
    .join('!');
  return `2:${createHash('sha1').update(Buffer.from(joined, 'utf16le')).digest('hex').toUpperCase()}`;
}

/** SMSCFG.ini's `SMS SMBIOS Serial Number Identifier`: hex of the UTF-16LE BIOS serial. */
export function smbiosSerialIdentifier(hw: MachineHardware): string {
  return Buffer.from(hw.biosSerial, 'utf16le').toString('hex').toUpperCase();
}
