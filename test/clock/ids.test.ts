import { describe, expect, it } from 'vitest';
import { siteCode, siteCodeProblem, smsGuid, thumbprint, tokenGuid } from '../../src/ids.js';
import { isCcmsimError } from '../../src/errors.js';

describe('branded identifiers', () => {
  it('normalizes SMS GUIDs to GUID: + upper case', () => {
    expect(smsGuid('c66ee0fd-08e7-4b38-b282-7e6954b71139')).toBe('GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139');
    expect(smsGuid('GUID:{c66ee0fd-08e7-4b38-b282-7e6954b71139}')).toBe('GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139');
  });

  it('keeps token GUIDs lower case', () => {
    expect(tokenGuid('DB591E33-A6FD-4C5B-82F3-BF673E5BD0A2')).toBe('db591e33-a6fd-4c5b-82f3-bf673e5bd0a2');
  });

  it('applies the documented site code rules', () => {
    expect(siteCode('abc')).toBe('ABC');
    expect(siteCodeProblem('AB')).toMatch(/three characters/);
    expect(siteCodeProblem('A-C')).toMatch(/three characters/);
    for (const reserved of ['AUX', 'CON', 'NUL', 'PRN', 'SMS', 'ENV', 'sms']) {
      expect(siteCodeProblem(reserved)).toMatch(/reserved/);
    }
  });

  it('refuses malformed values with a coded error', () => {
    for (const bad of [() => smsGuid('GUID:nope'), () => tokenGuid('p6fd'), () => thumbprint('XYZ'), () => siteCode('ABCD')]) {
      try {
        bad();
        expect.unreachable();
      } catch (err) {
        expect(isCcmsimError(err, 'CCMSIM_BAD_ID')).toBe(true);
      }
    }
  });
});
