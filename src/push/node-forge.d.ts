// The small part of node-forge that pkcs12.ts uses. node-forge ships no types and
// @types/node-forge is not a dependency; declaring only what we call keeps the checker honest.
declare module 'node-forge' {
  export interface Asn1 {
    readonly __asn1: unique symbol;
  }
  export interface ForgePrivateKey {
    readonly __privateKey: unique symbol;
  }
  export interface ForgeCertificate {
    readonly __certificate: unique symbol;
  }
  export interface Pkcs12Bag {
    type: string;
    /** Set when forge understood the key (RSA only); otherwise `asn1` holds the PrivateKeyInfo. */
    key?: ForgePrivateKey | null;
    /** Set when forge understood the certificate (RSA only); otherwise `asn1` holds it. */
    cert?: ForgeCertificate | null;
    asn1?: Asn1;
  }
  export interface Pkcs12Pfx {
    getBags(filter: { bagType: string }): Record<string, Pkcs12Bag[] | undefined>;
  }
  const forge: {
    asn1: {
      fromDer(bytes: string, strict?: boolean): Asn1;
      toDer(value: Asn1): { getBytes(): string };
    };
    pki: {
      oids: Record<string, string | undefined>;
      privateKeyToAsn1(key: ForgePrivateKey): Asn1;
      wrapRsaPrivateKey(rsaKey: Asn1): Asn1;
      certificateToAsn1(cert: ForgeCertificate): Asn1;
    };
    pkcs12: {
      pkcs12FromAsn1(obj: Asn1, strict: boolean, password: string): Pkcs12Pfx;
    };
  };
  export default forge;
}
