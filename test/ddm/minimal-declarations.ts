// The smallest valid payload of every declaration type: exactly its required keys, written by hand
// from Apple's schema (not derived from it, so the validator is checked against an independent
// reading). declarations.test.ts checks that this covers every type in the registry.
import type { JsonObject } from '../../src/ddm/index.ts';

const reference = { Reference: { DataURL: 'https://assets.example.com/a.json' } };

export const MINIMAL_PAYLOADS: Readonly<Record<string, JsonObject>> = {
  'com.apple.activation.simple': { StandardConfigurations: ['com.example.passcode'] },
  'com.apple.asset.credential.acme': reference,
  'com.apple.asset.credential.certificate': reference,
  'com.apple.asset.credential.identity': reference,
  'com.apple.asset.credential.scep': reference,
  'com.apple.asset.credential.userpassword': reference,
  'com.apple.asset.data': reference,
  'com.apple.asset.useridentity': {},
  'com.apple.configuration.account.caldav': { HostName: 'caldav.example.com' },
  'com.apple.configuration.account.carddav': { HostName: 'carddav.example.com' },
  'com.apple.configuration.account.exchange': { EnabledProtocolTypes: ['EAS'] },
  'com.apple.configuration.account.google': { UserIdentityAssetReference: 'com.example.user' },
  'com.apple.configuration.account.ldap': { HostName: 'ldap.example.com' },
  'com.apple.configuration.account.mail': {
    IncomingServer: { ServerType: 'IMAP', HostName: 'imap.example.com', AuthenticationMethod: 'Password' },
    OutgoingServer: { HostName: 'smtp.example.com', AuthenticationMethod: 'Password' },
  },
  'com.apple.configuration.account.subscribed-calendar': { CalendarURL: 'https://calendar.example.com/holidays.ics' },
  'com.apple.configuration.app.managed': {},
  'com.apple.configuration.diskmanagement.settings': {},
  'com.apple.configuration.legacy.interactive': { ProfileURL: 'https://example.com/p.mobileconfig', VisibleName: 'Wi-Fi' },
  'com.apple.configuration.legacy': { ProfileURL: 'https://example.com/p.mobileconfig' },
  'com.apple.configuration.management.status-subscriptions': { StatusItems: [{ Name: 'device.operating-system.version' }] },
  'com.apple.configuration.management.test': { Echo: 'hello' },
  'com.apple.configuration.math.settings': {},
  'com.apple.configuration.passcode.settings': {},
  'com.apple.configuration.safari.extensions.settings': {},
  'com.apple.configuration.screensharing.connection.group': { ConnectionGroupUUID: 'G1', GroupName: 'Lab', Members: ['C1'] },
  'com.apple.configuration.screensharing.connection': {
    ConnectionUUID: 'C1',
    DisplayName: 'Lab Mac',
    HostName: 'lab.example.com',
    DisplayConfiguration: { DisplayType: 'Virtual1' },
  },
  'com.apple.configuration.screensharing.host.settings': {},
  'com.apple.configuration.security.certificate': { CredentialAssetReference: 'com.example.cert' },
  'com.apple.configuration.security.identity': { CredentialAssetReference: 'com.example.identity' },
  'com.apple.configuration.security.passkey.attestation': { AttestationIdentityAssetReference: 'com.example.identity', RelyingParties: ['example.com'] },
  'com.apple.configuration.services.background-tasks': { TaskType: 'com.example.task' },
  'com.apple.configuration.services.configuration-files': { ServiceType: 'com.openssh.sshd', DataAssetReference: 'com.example.sshd-config' },
  'com.apple.configuration.softwareupdate.enforcement.specific': { TargetOSVersion: '26.1', TargetLocalDateTime: '2026-01-10T02:00:00' },
  'com.apple.configuration.softwareupdate.settings': {},
  'com.apple.configuration.watch.enrollment': { EnrollmentProfileURL: 'https://example.com/enroll/watch' },
  'com.apple.management.organization-info': { Name: 'Example, Inc.' },
  'com.apple.management.properties': {},
  'com.apple.management.server-capabilities': { Version: '1.0.0', SupportedFeatures: {} },
};
