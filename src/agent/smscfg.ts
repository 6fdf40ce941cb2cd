/**
 * Owns SMSCFG.ini (`%WinDir%\SMSCFG.ini`): the client's identity in the real file's layout, one
 * `[Configuration - Client Properties]` section of `Name=value` lines with CRLF (protocol.md §3); one value is ours
 * (`hardwareIdentifier2`, below).
 */
export interface SmsCfg {
  smsUniqueIdentifier: string;
  previousSmsUid?: string;
  /** MM/DD/YYYY HH:MM:SS, machine local time. */
  lastSmsUidChangeDate: string;
  /** `SMS;<thumbprint>` */
  certificateIdentifier: string;
  /**
   * Ours: the HardwareID (`2:<SHA-1>`). The genuine file holds a 16-hex value here (`002C0000010000F2`) whose meaning is
   * not public (docs/protocol.md, "Ours" 14).
   */
  hardwareIdentifier2: string;
  smbiosSerialIdentifier: string;
  lastVersion: string;
}

const SECTION = '[Configuration - Client Properties]';

export function formatSmsCfg(cfg: SmsCfg): string {
  const lines = [
    SECTION,
    `SMS Unique Identifier=${cfg.smsUniqueIdentifier}`,
    ...(cfg.previousSmsUid ? [`Previous SMSUID=${cfg.previousSmsUid}`] : []),
    `Last SMSUID Change Date=${cfg.lastSmsUidChangeDate}`,
    `SMS Certificate Identifier=${cfg.certificateIdentifier}`,
    `SMS Hardware Identifier 2=${cfg.hardwareIdentifier2}`,
    `SMS SMBIOS Serial Number Identifier=${cfg.smbiosSerialIdentifier}`,
    `Last Version=${cfg.lastVersion}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** Reads the `Name=value` pairs of the client section (names as written). */
export function parseSmsCfg(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inSection = line === SECTION;
      continue;
    }
    const eq = line.indexOf('=');
    if (inSection && eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
