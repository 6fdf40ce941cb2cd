import { describe, it, expect } from 'vitest';
import { assertWellFormedXml, parseXml } from '../../src/protocol/xml-util.js';

describe('assertWellFormedXml remembers recent passes, never failures', () => {
  it('accepts the same good text again and keeps rejecting bad text every time', () => {
    const good = '<Msg><ID>1</ID></Msg>';
    expect(() => assertWellFormedXml(good, 'the header')).not.toThrow();
    expect(() => assertWellFormedXml(good, 'the header')).not.toThrow();
    expect(parseXml(good, 'the header')).toEqual({ Msg: { ID: '1' } });
    const bad = '<Msg><ID>1</Msg>';
    for (let i = 0; i < 3; i += 1) {
      expect(() => assertWellFormedXml(bad, 'the header')).toThrow(/the header is not well-formed XML/);
    }
    expect(() => assertWellFormedXml('<!DOCTYPE x><x/>', 'the body')).toThrow(/DOCTYPE/);
    expect(() => assertWellFormedXml('  ', 'the body')).toThrow(/the body is empty/);
  });

  it('still validates once the remembered texts have been pushed out', () => {
    for (let i = 0; i < 10; i += 1) assertWellFormedXml(`<A n="${i}"/>`, 'a document');
    expect(() => assertWellFormedXml('<A n="1">', 'a document')).toThrow(/not well-formed/);
    expect(() => assertWellFormedXml('<A n="0"/>', 'a document')).not.toThrow();
  });
});
