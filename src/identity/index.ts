// Public surface of the device identity module. Everything else in this folder is internal.
export { IdentityError, type IdentityFailure } from './errors.ts';
export { IdentityVerifier } from './identity-verifier.ts';
export { DeviceCertVerifier, type DeviceCertVerifierOptions, type DeviceIdentity } from './device-cert-verifier.ts';
export { checkMdmSignature, parseMdmSignature, MAX_MDM_SIGNATURE_LENGTH, type MdmSignature } from './mdm-signature.ts';
export { decodeForwardedCert, MAX_FORWARDED_CERT_LENGTH } from './forwarded-cert.ts';
export {
  createDeviceCa,
  deviceCaFromPem,
  ensureDeviceCa,
  issueDeviceCertificate,
  loadDeviceCa,
  DEVICE_CA_CERT_FILE,
  DEVICE_CA_KEY_FILE,
  type DeviceCa,
  type DeviceCertificateRequest,
  type EnsuredDeviceCa,
} from './device-ca.ts';
export { subjectCommonNames } from './subject.ts';
