import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/**
 * Signs the enrolment profiles devices download, as every MDM does: a CMS SignedData (DER) wrapping the property list,
 * which iOS and macOS show as "Verified" when the signer chains to a root they trust (the operator's TLS certificate of
 * PUBLIC_URL's host, say) and as "Not Verified" otherwise — but signed either way, so a profile altered on its way
 * does not install.
 */
export interface ProfileSigner {
  sign(xml: string): Promise<Buffer>;
  /** The signing certificate (the first of the chain), for the operator's log and the tests. */
  certificate: X509Certificate;
  /** Made here because none was configured: devices show the profiles as "Not Verified". */
  selfSigned: boolean;
}

/** Where the signing identity comes from: the operator's files, or one made and kept under a directory. */
export type ProfileSigningSource = { certificateFile: string; keyFile: string } | { selfSignedIn: string };

const ID_DATA = '1.2.840.113549.1.7.1';
const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const ATTRIBUTE = {
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
};
const SELF_SIGNED_NAME = 'Self-Service Setup profile signing';

export async function openProfileSigner(source: ProfileSigningSource): Promise<ProfileSigner> {
  if ('certificateFile' in source) {
    const chain = certificatesIn(readFileSync(source.certificateFile, 'utf8'), source.certificateFile);
    const key = createPrivateKey(readFileSync(source.keyFile, 'utf8'));
    return signerOf(chain, key, false);
  }
  // Key and certificate in one file, written whole and renamed into place: processes starting together cannot pair
  // one's key with another's certificate.
  const file = path.join(source.selfSignedIn, 'profile-signing.pem');
  if (!existsSync(file)) {
    mkdirSync(source.selfSignedIn, { recursive: true, mode: 0o700 });
    const made = await selfSignedIdentity();
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${made.keyPem}${made.certificatePem}`, { mode: 0o600 });
    renameSync(temporary, file);
  }
  const pem = readFileSync(file, 'utf8');
  return signerOf(certificatesIn(pem, file), createPrivateKey(pem), true);
}

function certificatesIn(pem: string, file: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${file}: no PEM certificate in it`);
  return blocks.map((block) => new X509Certificate(block));
}

/** How Web Crypto names a key of this kind, with SHA-256 (RSA PKCS#1 v1.5 or ECDSA on P-256/P-384). */
function algorithmOf(key: KeyObject): RsaHashedImportParams | EcKeyImportParams {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const curve = { prime256v1: 'P-256', secp384r1: 'P-384' }[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'ec' && curve) return { name: 'ECDSA', namedCurve: curve };
  throw new Error('the profile signing key must be RSA or ECDSA on P-256 or P-384');
}

const signingKeyOf = (key: KeyObject) =>
  globalThis.crypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithmOf(key), false, [
    'sign',
  ]);

async function signerOf(chain: X509Certificate[], key: KeyObject, selfSigned: boolean): Promise<ProfileSigner> {
  const [leaf] = chain;
  if (!leaf?.checkPrivateKey(key)) throw new Error('the profile signing key is not the key of its certificate');
  const privateKey = await signingKeyOf(key);
  const certificates = chain.map(
    (certificate) => new pkijs.Certificate({ schema: asn1js.fromBER(certificate.raw).result }),
  );
  const signerCertificate = certificates[0] as pkijs.Certificate;

  return {
    certificate: leaf,
    selfSigned,
    async sign(xml) {
      const content = new TextEncoder().encode(xml);
      const digest = await globalThis.crypto.subtle.digest('SHA-256', content);
      const signed = new pkijs.SignedData({
        version: 1,
        encapContentInfo: new pkijs.EncapsulatedContentInfo({
          eContentType: ID_DATA,
          eContent: new asn1js.OctetString({ valueHex: content }),
        }),
        signerInfos: [
          new pkijs.SignerInfo({
            version: 1,
            sid: new pkijs.IssuerAndSerialNumber({
              issuer: signerCertificate.issuer,
              serialNumber: signerCertificate.serialNumber,
            }),
            signedAttrs: new pkijs.SignedAndUnsignedAttributes({
              type: 0,
              attributes: [
                new pkijs.Attribute({
                  type: ATTRIBUTE.contentType,
                  values: [new asn1js.ObjectIdentifier({ value: ID_DATA })],
                }),
                new pkijs.Attribute({
                  type: ATTRIBUTE.signingTime,
                  values: [new asn1js.UTCTime({ valueDate: new Date() })],
                }),
                new pkijs.Attribute({
                  type: ATTRIBUTE.messageDigest,
                  values: [new asn1js.OctetString({ valueHex: digest })],
                }),
              ],
            }),
          }),
        ],
        certificates,
      });
      await signed.sign(privateKey, 0, 'SHA-256');
      const wrapped = new pkijs.ContentInfo({ contentType: ID_SIGNED_DATA, content: signed.toSchema(true) });
      return Buffer.from(wrapped.toSchema().toBER());
    },
  };
}

/** A self-signed RSA identity for signing profiles, valid ten years (PEM). */
async function selfSignedIdentity(): Promise<{ keyPem: string; certificatePem: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = await signingKeyOf(privateKey);
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  // A positive serial: the high bit of its first byte clear.
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial });
  for (const name of [certificate.issuer, certificate.subject]) {
    name.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: SELF_SIGNED_NAME }) }),
    );
  }
  const now = new Date();
  certificate.notBefore.value = new Date(now.getTime() - 60_000);
  certificate.notAfter.value = new Date(now.getTime() + 10 * 365 * 86_400_000);
  certificate.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.15', // key usage: digital signature
      critical: true,
      extnValue: new asn1js.BitString({ valueHex: new Uint8Array([0x80]), unusedBits: 7 }).toBER(),
    }),
  ];
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  certificate.subjectPublicKeyInfo.fromSchema(asn1js.fromBER(publicKey).result);
  await certificate.sign(signingKey, 'SHA-256');
  const der = Buffer.from(certificate.toSchema().toBER());
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certificatePem: new X509Certificate(der).toString(),
  };
}
