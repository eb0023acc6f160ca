import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** What the product reads from the certificates of Apple enrolment; it never checks a signature (NanoMDM does). */

const CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';
const COMMON_NAME = '2.5.4.3';

export interface CertificateRequest {
  commonName?: string;
  challenge?: string;
  /** SHA-256 of the public key (SubjectPublicKeyInfo), hex. */
  keyHash: string;
}

const schemaOf = (der: Uint8Array) => {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new Error('not DER');
  return parsed.result;
};

/** A string value of a name or attribute (PrintableString, UTF8String…), or undefined. */
const textOf = (value: unknown): string | undefined => {
  const block = (value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  return typeof block === 'string' ? block : undefined;
};

const commonNameOf = (name: pkijs.RelativeDistinguishedNames) =>
  textOf(name.typesAndValues.find((entry) => entry.type === COMMON_NAME)?.value);

/** A PKCS#10 certificate request (DER, as the SCEP server hands it over), or undefined if it is not one. */
export function readCertificateRequest(der: Buffer): CertificateRequest | undefined {
  try {
    const csr = new pkijs.CertificationRequest({ schema: schemaOf(new Uint8Array(der)) });
    const challenge = csr.attributes?.find((attribute) => attribute.type === CHALLENGE_PASSWORD)?.values[0];
    const publicKey = Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER());
    return {
      commonName: commonNameOf(csr.subject),
      challenge: textOf(challenge),
      keyHash: createHash('sha256').update(publicKey).digest('hex'),
    };
  } catch {
    return undefined;
  }
}

/**
 * The common name of the certificate that signed a detached CMS signature (an `Mdm-Signature` header, base64), or
 * undefined if the header is not such a signature. Which certificate signed is named by the signer's issuer and serial
 * number; a signature that names none of the certificates it carries has no signer here.
 */
export function signerCommonName(mdmSignature: string | undefined): string | undefined {
  if (!mdmSignature) return undefined;
  try {
    const content = new pkijs.ContentInfo({ schema: schemaOf(new Uint8Array(Buffer.from(mdmSignature, 'base64'))) });
    const signed = new pkijs.SignedData({ schema: content.content });
    const sid = signed.signerInfos[0]?.sid;
    if (!(sid instanceof pkijs.IssuerAndSerialNumber)) return undefined;
    const signer = (signed.certificates ?? []).find(
      (certificate): certificate is pkijs.Certificate =>
        certificate instanceof pkijs.Certificate &&
        certificate.serialNumber.isEqual(sid.serialNumber) &&
        certificate.issuer.isEqual(sid.issuer),
    );
    return signer && commonNameOf(signer.subject);
  } catch {
    return undefined;
  }
}
