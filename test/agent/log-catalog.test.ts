// Every line the agent can write is a well-formed CMTrace record (the project's reader parses it back unchanged),
// and the lines copied from the genuine ccmsetup.log keep Microsoft's wording and file= values.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCmLog } from '../../src/log/cm-log.js';
import { parseCmLog } from '../../src/log/reader.js';
import { LINES, type CatalogLine } from '../../src/agent/log-catalog.js';

function sample(id: string, fn: (...a: never[]) => CatalogLine): CatalogLine {
  if (id === 'hardwareId') {
    return (LINES.hardwareId as (id: string, inputs: Array<[string, string]>) => CatalogLine)('2:ABCDEF', [
      ['Win32_SystemEnclosure.SerialNumber', 'X1'],
      ['Win32_NetworkAdapterConfiguration.MACAddress', '<Not used on laptop>'],
    ]);
  }
  return (fn as (...a: unknown[]) => CatalogLine)('ARG1', 'ARG2', 'ARG3', 'ARG4', 'ARG5');
}

describe('the client log catalogue', () => {
  it('writes every line as a record the reader parses back, with no malformed record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-catalog-'));
    const path = join(dir, 'all.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'Europe/Paris' });
    const lines = Object.entries(LINES).map(([id, fn]) => sample(id, fn as never));
    for (const [i, line] of lines.entries()) {
      log.write({ message: line.message, component: line.component, type: line.type, thread: 100 + i, file: line.file, time: Date.UTC(2026, 6, 1, 12, 0, i), context: '' });
    }
    log.close();
    const parsed = parseCmLog(readFileSync(path));
    expect(parsed.malformed).toEqual([]);
    expect(parsed.records.map((r) => r.message.replace(/\r\n/g, '\n'))).toEqual(lines.map((l) => l.message.replace(/\r\n/g, '\n')));
    expect(parsed.records.map((r) => r.file)).toEqual(lines.map((l) => l.file));
  });

  it('keeps the genuine wording and file= values of ccmsetup.log (logs.md §3.1)', () => {
    expect(LINES.started(476)).toMatchObject({ message: '==========[ ccmsetup started in process 476 ]==========', file: 'ccmsetup.cpp:9498', type: 1 });
    expect(LINES.sslState()).toMatchObject({ message: 'SslState value: 224', file: 'ccmsetup.cpp:4587', type: 0 });
    expect(LINES.noClient()).toMatchObject({ message: 'No version of the client is currently detected.', file: 'ccmsetup.cpp:2962' });
    expect(LINES.exiting(0)).toMatchObject({ message: 'CcmSetup is exiting with return code 0', file: 'ccmsetup.cpp:10707' });
    expect(LINES.failedWith('0x80190194')).toMatchObject({ message: 'CcmSetup failed with error code 0x80190194', file: 'ccmsetup.cpp:10711' });
    expect(LINES.msiProperties('CCMFIRSTCERT="1"').file).toBe('ccmsetup.cpp:4713');
    expect(LINES.regDone('GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139', 3).message).toBe(
      '[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3',
    );
    expect(LINES.rotatingInternet('https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500').message).toBe(
      'Rotating internet management point, new management point [1] is: https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500 (0) with capabilities: <Capabilities SchemaVersion ="1.0"><Property Name="SSL" Version="1" /></Capabilities>',
    );
    expect(LINES.hardwareId('2:AB', [['Win32_BIOS.SerialNumber', 'X']]).message).toBe('Computed HardwareID=2:AB\r\n\tWin32_BIOS.SerialNumber=X');
    for (const fn of [LINES.startup, LINES.machine, LINES.regSending]) expect((fn as (a: string) => CatalogLine)('X').component).toBe('ClientIDManagerStartup');
  });
});
