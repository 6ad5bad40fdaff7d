// What each check-in MessageType does (docs/protocol.md §3). The replies follow
// src/protocol/schema/checkin.json.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { detectPlatform } from '../protocol/commands/index.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import {
  authenticateSchema,
  checkOutSchema,
  declarativeManagementSchema,
  describeIssues,
  getBootstrapTokenSchema,
  getTokenSchema,
  returnToServiceSchema,
  setBootstrapTokenSchema,
  tokenUpdateSchema,
  userAuthenticateSchema,
} from '../protocol/messages.ts';
import { plistToJson, type PlistDict } from '../protocol/plist.ts';
import { checkinEvent, type DeviceMessage } from '../events/drafts.ts';
import type { AuthenticateRecord, EnrollmentStore } from '../storage/storage.ts';
import type { Authorization } from './device-auth.ts';
import { DeviceRequestError, emptyReply, plistReply, unknownEnrollment, type DeviceReply } from './device-reply.ts';

export interface CheckinOptions {
  /** UserAuthenticate: 'decline' answers 410 (do not manage network users); 'allow' manages them
   *  without a digest challenge. */
  userAuthenticate: 'decline' | 'allow';
  /** ReturnToService: without a Wi-Fi profile the device is told Enabled=false. */
  returnToService: { wifiProfile: Uint8Array; mdmProfile: Uint8Array | null } | null;
}

/** What check-ins need of Declarative Device Management (declarative.ts, declarative-sync.ts). */
export interface DeclarativeCheckin {
  /** Answers a DeclarativeManagement check-in's Endpoint. */
  reply(endpoint: string, data: Uint8Array | undefined, who: ResolvedEnrollment, at: Date): Promise<DeviceReply>;
  /** A channel's first TokenUpdate since Authenticate: its declarations are to be synced. */
  enrolled(enrollmentId: string): Promise<void>;
}

interface CheckinContext {
  /** The message with where it came from: what its event is made of. */
  device: DeviceMessage;
  storage: EnrollmentStore;
  options: CheckinOptions;
  declarative: DeclarativeCheckin;
  message: PlistDict;
  who: ResolvedEnrollment;
  /** Stores an Authenticate (see `Authenticate`). */
  authenticate: Authenticate;
  at: string;
}

/**
 * Stores the Authenticate `write` makes of how the request's certificate is admitted (null when
 * identity checks are off), the admission decided and applied in the same storage step; throws a
 * 403, having stored nothing, when the certificate may not speak for the device.
 */
export type Authenticate = (
  write: (authorization: Authorization | null) => AuthenticateRecord,
) => Promise<{ created: boolean; authorization: Authorization | null }>;

export type Handler = (ctx: CheckinContext) => Promise<DeviceReply>;

const handlers: Record<string, Handler> = {
  async Authenticate(ctx) {
    const msg = parse(authenticateSchema, ctx.message);
    const who = deviceChannelOnly(ctx, 'Authenticate');
    const { MessageType: _type, ...facts } = plistToJson(ctx.message) as Record<string, unknown>;
    const { created, authorization } = await ctx.authenticate((authorization) => ({
      id: who.id,
      type: who.type,
      serialNumber: msg.SerialNumber ?? null,
      platform: detectPlatform({ ProductName: msg.ProductName, Model: msg.Model }) ?? null,
      osVersion: msg.OSVersion ?? null,
      facts,
      topic: msg.Topic ?? null,
      // A profile replacement re-enrolls a managed device: what the admin queued still applies.
      keepPendingCommands: authorization === 'renewal',
      at: ctx.at,
      event: checkinEvent(ctx.device),
    }));
    const outcome = created ? 'new enrollment' : authorization === 'renewal' ? 're-enrolled with a renewed identity' : 'enrollment reset';
    return emptyReply({ enrollmentId: who.id, message: 'Authenticate', outcome });
  },

  async TokenUpdate(ctx) {
    const msg = parse(tokenUpdateSchema, ctx.message);
    const who = ctx.who;
    const outcome = await ctx.storage.tokenUpdate({
      ...who,
      userId: msg.UserID ?? msg.EnrollmentUserID ?? null,
      userShortName: msg.UserShortName ?? null,
      userLongName: msg.UserLongName ?? null,
      topic: msg.Topic,
      pushToken: msg.Token,
      pushMagic: msg.PushMagic,
      unlockToken: msg.UnlockToken && msg.UnlockToken.length > 0 ? msg.UnlockToken : null,
      awaitingConfiguration: msg.AwaitingConfiguration ?? false,
      at: ctx.at,
      event: checkinEvent(ctx.device),
    });
    if (outcome === 'unknown') throw unknownEnrollment(who, 'TokenUpdate');
    // The first TokenUpdate after Authenticate (or of a new user channel) makes the channel
    // reachable, with none of its declarations on the device yet.
    if (outcome === 'newly-enrolled') await ctx.declarative.enrolled(who.id);
    return emptyReply({ enrollmentId: who.id, message: 'TokenUpdate', outcome: 'enrolled' });
  },

  async CheckOut(ctx) {
    parse(checkOutSchema, ctx.message);
    const who = ctx.who;
    if (!(await ctx.storage.checkOut(who.id, ctx.at, checkinEvent(ctx.device)))) throw unknownEnrollment(who, 'CheckOut');
    return emptyReply({ enrollmentId: who.id, message: 'CheckOut', outcome: 'checked out' });
  },

  async UserAuthenticate(ctx) {
    const msg = parse(userAuthenticateSchema, ctx.message);
    const who = ctx.who;
    if (!(await ctx.storage.recordSeen(who.deviceId, 'UserAuthenticate', ctx.at, checkinEvent(ctx.device)))) throw unknownEnrollment(who, 'UserAuthenticate');
    const summary = { enrollmentId: who.id, message: 'UserAuthenticate' };
    if (ctx.options.userAuthenticate === 'decline') {
      // 410: "this user will not be managed" for this login session; the device asks again next login.
      return { status: 410, body: null, summary: { ...summary, outcome: 'declined' } };
    }
    // Leg 1 gets an empty DigestChallenge (no password needed); leg 2 only follows a challenge, but
    // if a device sends one anyway it gets a session token.
    if (msg.DigestResponse === undefined) return plistReply({ DigestChallenge: '' }, { ...summary, outcome: 'accepted' });
    return plistReply({ AuthToken: randomUUID() }, { ...summary, outcome: 'token issued' });
  },

  async SetBootstrapToken(ctx) {
    const msg = parse(setBootstrapTokenSchema, ctx.message);
    const who = deviceChannelOnly(ctx, 'SetBootstrapToken');
    // An absent or empty token means "delete the escrowed one".
    const token = msg.BootstrapToken && msg.BootstrapToken.length > 0 ? msg.BootstrapToken : null;
    if (!(await ctx.storage.setBootstrapToken(who.id, token, ctx.at, checkinEvent(ctx.device)))) throw unknownEnrollment(who, 'SetBootstrapToken');
    const outcome = token ? 'bootstrap token escrowed' : 'bootstrap token deleted';
    return emptyReply({ enrollmentId: who.id, message: 'SetBootstrapToken', outcome });
  },

  async GetBootstrapToken(ctx) {
    parse(getBootstrapTokenSchema, ctx.message);
    const who = deviceChannelOnly(ctx, 'GetBootstrapToken');
    const token = await ctx.storage.getBootstrapToken(who.id, ctx.at, checkinEvent(ctx.device));
    if (token === undefined) throw unknownEnrollment(who, 'GetBootstrapToken');
    const summary = { enrollmentId: who.id, message: 'GetBootstrapToken' };
    if (token === null) return plistReply({}, { ...summary, outcome: 'no bootstrap token' });
    return plistReply({ BootstrapToken: token }, { ...summary, outcome: 'bootstrap token returned' });
  },

  async GetToken(ctx) {
    const msg = parse(getTokenSchema, ctx.message);
    const who = ctx.who;
    // No token service (Managed Apple Account sign-in, watch pairing) is configured in Aspen yet,
    // so every TokenServiceType is one this server does not serve: 400, as the protocol asks.
    throw new DeviceRequestError(400, `unsupported TokenServiceType ${JSON.stringify(msg.TokenServiceType)}`, {
      enrollmentId: who.id,
      message: 'GetToken',
    });
  },

  async DeclarativeManagement(ctx) {
    const msg = parse(declarativeManagementSchema, ctx.message);
    const who = ctx.who;
    if (!(await ctx.storage.recordSeen(who.id, 'DeclarativeManagement', ctx.at, checkinEvent(ctx.device)))) {
      throw unknownEnrollment(who, 'DeclarativeManagement');
    }
    return ctx.declarative.reply(msg.Endpoint, msg.Data, who, new Date(ctx.at));
  },

  async ReturnToService(ctx) {
    parse(returnToServiceSchema, ctx.message);
    const who = deviceChannelOnly(ctx, 'ReturnToService');
    const rts = ctx.options.returnToService;
    const summary = { enrollmentId: who.id, message: 'ReturnToService' };
    if (rts === null) {
      if (!(await ctx.storage.recordSeen(who.id, 'ReturnToService', ctx.at, checkinEvent(ctx.device)))) throw unknownEnrollment(who, 'ReturnToService');
      return plistReply({ ReturnToService: { Enabled: false } }, { ...summary, outcome: 'disabled' });
    }
    // getBootstrapToken also records the enrollment as seen.
    const bootstrap = await ctx.storage.getBootstrapToken(who.id, ctx.at, checkinEvent(ctx.device));
    if (bootstrap === undefined) throw unknownEnrollment(who, 'ReturnToService');
    const settings: PlistDict = { Enabled: true, WiFiProfileData: rts.wifiProfile };
    if (rts.mdmProfile) settings.MDMProfileData = rts.mdmProfile;
    if (bootstrap) settings.BootstrapToken = bootstrap;
    return plistReply({ ReturnToService: settings }, { ...summary, outcome: 'enabled' });
  },
};

/** The handler of a check-in's MessageType (throws a 400 for a missing or unknown one). */
export function checkinHandler(message: PlistDict): Handler {
  const type = message.MessageType;
  if (typeof type !== 'string') throw new DeviceRequestError(400, 'check-in without MessageType');
  const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
  if (handler === undefined) throw new DeviceRequestError(400, `unknown MessageType ${JSON.stringify(type)}`);
  return handler;
}

function parse<S extends z.ZodType>(schema: S, message: PlistDict): z.infer<S> {
  const result = schema.safeParse(message);
  if (!result.success) {
    throw new DeviceRequestError(400, `invalid ${String(message.MessageType)}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

function deviceChannelOnly({ who }: CheckinContext, messageType: string): ResolvedEnrollment {
  if (who.channel !== 'device') {
    throw new DeviceRequestError(400, `${messageType} is only valid on the device channel`, { enrollmentId: who.id, message: messageType });
  }
  return who;
}
