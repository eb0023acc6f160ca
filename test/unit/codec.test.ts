import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EncryptionCodec, parseCodecKeys, payloadFromJson } from '../../lib/codec';

/** lib/codec.ts: the payload codec's keys, on their own (the system lane checks what reaches Temporal). */
describe('key rotation', () => {
  const key = () => randomBytes(32).toString('base64');
  const plain = {
    metadata: { encoding: Buffer.from('json/plain') },
    data: Buffer.from('{"email":"old@example.com"}'),
  };

  it('decodes payloads of an old key after a new key is put first, and encrypts with the new one', async () => {
    const [k1, k2] = [key(), key()];
    const old = await new EncryptionCodec(parseCodecKeys(`k1:${k1}`)).encode([plain]);
    const rotated = new EncryptionCodec(parseCodecKeys(`k2:${k2},k1:${k1}`));
    const [decoded] = await rotated.decode(old);
    expect(Buffer.from(decoded?.data ?? []).toString()).to.equal('{"email":"old@example.com"}');
    const [fresh] = await rotated.encode([plain]);
    expect(Buffer.from(fresh?.metadata?.['encryption-key-id'] ?? []).toString()).to.equal('k2');
    let error: unknown;
    await new EncryptionCodec(parseCodecKeys(`k2:${k2}`)).decode(old).catch((e) => {
      error = e;
    });
    expect(String(error)).to.include('unknown key "k1"');
  });

  it('passes payloads written before encryption through unchanged while they are accepted', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(key()), 'accept');
    const [decoded] = await codec.decode([
      payloadFromJson({
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: plain.data.toString('base64'),
      }),
    ]);
    expect(Buffer.from(decoded?.data ?? []).toString()).to.equal('{"email":"old@example.com"}');
  });

  it('refuses keys of the wrong size', () => {
    expect(() => parseCodecKeys('k1:c2hvcnQ=')).to.throw('32 bytes');
  });
});
