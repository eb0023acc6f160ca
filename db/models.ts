import {
  type CreationOptional,
  DataTypes,
  type ForeignKey,
  type InferAttributes,
  type InferCreationAttributes,
  Model,
  type Sequelize,
} from 'sequelize';
import type { DeviceState, Platform, SettingsStatus } from '../domain/platform';

/** Records the database owns: settings, organisations, templates, accounts, devices, sent messages. */

export type PlatformSettings = { android?: { useSmsInstallationCode?: boolean } } & Partial<
  Record<Platform, Record<string, unknown>>
>;

export class SystemSettings extends Model<InferAttributes<SystemSettings>, InferCreationAttributes<SystemSettings>> {
  declare id: CreationOptional<number>;
  declare deviceSetupEnabled: boolean;
  declare defaultOrganisationId: ForeignKey<number> | null;
  declare platforms: PlatformSettings;
}

export class Organisation extends Model<InferAttributes<Organisation>, InferCreationAttributes<Organisation>> {
  declare id: CreationOptional<number>;
  declare slug: string;
  declare name: string;
  declare enabled: CreationOptional<boolean>;
  declare emailRequirement: CreationOptional<string | null>;
  declare accountTemplateId: CreationOptional<number | null>;
  /** Devices one owner may have that are not removed. */
  declare maxDevicesPerOwner: CreationOptional<number>;
  /** Where Windows devices find the organisation's MDM (https); Windows is offered only with one. */
  declare windowsMdmDiscoveryUrl: CreationOptional<string | null>;
  /** The secret the organisation's MDM signs enrolment reports with, sealed (`Secrets.seal`). */
  declare mdmWebhookSecret: CreationOptional<string | null>;
  declare mdmWebhookSecretCreatedAt: CreationOptional<Date | null>;
}

export class AccountTemplate extends Model<InferAttributes<AccountTemplate>, InferCreationAttributes<AccountTemplate>> {
  declare id: CreationOptional<number>;
  declare organisationId: number;
  declare name: string;
  declare locale: string;
  declare timeZone: string;
  declare role: string;
  declare groups: string[];
  declare validityDays: CreationOptional<number | null>;
  declare attributes: Record<string, unknown>;
}

export class DeviceTemplate extends Model<InferAttributes<DeviceTemplate>, InferCreationAttributes<DeviceTemplate>> {
  declare id: CreationOptional<number>;
  declare organisationId: number;
  declare name: string;
  declare platform: Platform;
  declare groups: string[];
  declare description: string;
  declare management: Record<string, unknown>;
}

/** Which device template an organisation uses for a platform; no row means the platform is not offered. */
export class OrganisationDeviceTemplate extends Model<
  InferAttributes<OrganisationDeviceTemplate>,
  InferCreationAttributes<OrganisationDeviceTemplate>
> {
  declare organisationId: number;
  declare platform: Platform;
  declare deviceTemplateId: number;
}

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare organisationId: number;
  declare email: string;
  declare firstName: string;
  declare lastName: string;
  declare phone: string | null;
  declare passwordHash: string;
  declare accountTemplateId: number;
  declare locale: string;
  declare timeZone: string;
  declare role: string;
  declare groups: string[];
  declare validUntil: Date | null;
  declare attributes: Record<string, unknown>;
  /** The registration run that made this account: what makes a retried activity find it instead of making another. */
  declare registrationKey: string;
  declare createdAt: CreationOptional<Date>;
}

export class Device extends Model<InferAttributes<Device>, InferCreationAttributes<Device>> {
  declare id: string;
  declare organisationId: number;
  declare userId: number;
  declare platform: Platform;
  declare name: string;
  declare deviceTemplateId: number;
  declare groups: string[];
  declare description: string;
  declare management: Record<string, unknown>;
  declare state: DeviceState;
  declare linkNumber: number;
  declare linkTokenHash: string;
  declare linkExpiresAt: Date;
  declare enrolledAt: CreationOptional<Date | null>;
  declare deviceInfo: CreationOptional<Record<string, unknown> | null>;
  declare removedAt: CreationOptional<Date | null>;
  /** Apple: SHA-256 of the public key that got the link's one identity certificate (SCEP). */
  declare identityKey: CreationOptional<string | null>;
  /** Apple: the UDID this enrolment holds in NanoMDM (given at Authenticate); one enrolment per UDID. */
  declare udid: CreationOptional<string | null>;
  /** Apple: the device template's settings on the device (MDM InstallProfile): pending, applied or failed. */
  declare settingsStatus: CreationOptional<SettingsStatus | null>;
  /** Apple: why installing the settings failed (the device's error chain). */
  declare settingsDetail: CreationOptional<unknown[] | null>;
  /** Apple: when the device checked out (its management profile removed). */
  declare unenrolledAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;

  /** The state as the owner and the link see it: a link past its expiry is expired before its run has noticed. */
  stateNow(): DeviceState {
    return this.state === 'link-issued' && this.linkExpiresAt.getTime() <= Date.now() ? 'link-expired' : this.state;
  }
}

/** A NanoMDM webhook event already taken (by its event id): a replay is refused. Kept for the freshness window. */
export class MdmWebhookEvent extends Model<InferAttributes<MdmWebhookEvent>, InferCreationAttributes<MdmWebhookEvent>> {
  declare eventKey: string;
  declare receivedAt: Date;
}

/** A provisioning link replaced by a newer one: kept (as its hash) only to say it expired. */
export class RetiredLink extends Model<InferAttributes<RetiredLink>, InferCreationAttributes<RetiredLink>> {
  declare linkTokenHash: string;
  declare deviceId: string;
  declare retiredAt: Date;
}

/** A mobile number an owner proved with a code sent to it (its keyed hash): only such a number gets links by SMS. */
export class ProvenPhone extends Model<InferAttributes<ProvenPhone>, InferCreationAttributes<ProvenPhone>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare phoneHash: string;
  declare provenAt: CreationOptional<Date>;
}

/** A device owner's sign-in; only the keyed hash of its token is kept. Ends on sign-out, idleness, age or reset. */
export class OwnerSession extends Model<InferAttributes<OwnerSession>, InferCreationAttributes<OwnerSession>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare userId: number;
  declare createdAt: CreationOptional<Date>;
  declare lastSeenAt: Date;
  declare expiresAt: Date;
  declare endedAt: CreationOptional<Date | null>;
}

/** A supervisor's or an organisation manager's API token; only its keyed hash is kept. */
export class ApiToken extends Model<InferAttributes<ApiToken>, InferCreationAttributes<ApiToken>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare role: 'supervisor' | 'manager';
  declare organisationId: number | null;
  declare label: string;
  declare createdAt: CreationOptional<Date>;
  declare revokedAt: CreationOptional<Date | null>;
}

/** One row per message sent: the idempotency key that keeps a retried activity from sending twice. */
export class Delivery extends Model<InferAttributes<Delivery>, InferCreationAttributes<Delivery>> {
  declare key: string;
  declare channel: 'mail' | 'sms';
  declare createdAt: CreationOptional<Date>;
}

/** Mail and SMS kept locally when no SMTP server or Twilio account is configured (embedded default). */
export class OutboxMessage extends Model<InferAttributes<OutboxMessage>, InferCreationAttributes<OutboxMessage>> {
  declare id: CreationOptional<number>;
  declare channel: 'mail' | 'sms';
  declare recipient: string;
  declare subject: string | null;
  declare body: string;
  declare createdAt: CreationOptional<Date>;
}

export type AdminRole = 'supervisor' | 'manager';

/** A person of the admin console: a supervisor, or the manager of one organisation. */
export class AdminUser extends Model<InferAttributes<AdminUser>, InferCreationAttributes<AdminUser>> {
  declare id: CreationOptional<number>;
  /** Lower case. */
  declare email: string;
  declare passwordHash: string;
  /** The TOTP secret, sealed (`Secrets.seal`). */
  declare totpSecret: string;
  /** The time step of the last TOTP code taken; codes of that step or earlier are refused. */
  declare totpLastStep: CreationOptional<number | null>;
  declare role: AdminRole;
  /** The organisation a manager manages; null for a supervisor. */
  declare organisationId: number | null;
  declare createdAt: CreationOptional<Date>;
  declare disabledAt: CreationOptional<Date | null>;
}

/** An admin's sign-in; only the keyed hash of its token is kept. Ends on sign-out, idleness or age. */
export class AdminSession extends Model<InferAttributes<AdminSession>, InferCreationAttributes<AdminSession>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare adminUserId: number;
  declare createdAt: CreationOptional<Date>;
  declare lastSeenAt: Date;
  declare expiresAt: Date;
  declare endedAt: CreationOptional<Date | null>;
}

/** A one-time link to set an admin up (the first supervisor's, printed at the first start); kept as its keyed hash. */
export class AdminSetupToken extends Model<InferAttributes<AdminSetupToken>, InferCreationAttributes<AdminSetupToken>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare purpose: 'first-supervisor';
  declare createdAt: CreationOptional<Date>;
  /** After this the link no longer sets anyone up (ADMIN_SETUP_LINK_TTL after it was made). */
  declare expiresAt: Date;
  declare usedAt: CreationOptional<Date | null>;
}

export type AccountKind = 'owner' | 'admin';

/**
 * A browser or API client an owner or admin signed in from (a device token): its sign-in attempts are counted on its
 * own, apart from strangers'. Only the keyed hash of the token is kept; a sign-in with it replaces it with a new one.
 */
export class KnownDevice extends Model<InferAttributes<KnownDevice>, InferCreationAttributes<KnownDevice>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare accountKind: AccountKind;
  /** The owner's (users) or admin's (admin_users) id. */
  declare accountId: number;
  declare createdAt: CreationOptional<Date>;
  declare expiresAt: Date;
}

/** An admin's proven password whose code was taken: the same proof is refused afterwards. Kept while it would last. */
export class SpentFirstFactor extends Model<
  InferAttributes<SpentFirstFactor>,
  InferCreationAttributes<SpentFirstFactor>
> {
  declare id: string;
  declare expiresAt: Date;
}

const json = (field: string) => ({ type: DataTypes.JSON, allowNull: false, field });

export function defineModels(sequelize: Sequelize) {
  const options = (tableName: string, timestamps = false) => ({ sequelize, tableName, underscored: true, timestamps });
  SystemSettings.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      deviceSetupEnabled: { type: DataTypes.BOOLEAN, allowNull: false },
      defaultOrganisationId: { type: DataTypes.INTEGER, allowNull: true },
      platforms: json('platforms'),
    },
    options('system_settings'),
  );
  Organisation.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      slug: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      name: { type: DataTypes.STRING(200), allowNull: false },
      enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      emailRequirement: { type: DataTypes.STRING(1000), allowNull: true },
      accountTemplateId: { type: DataTypes.INTEGER, allowNull: true },
      maxDevicesPerOwner: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 5 },
      windowsMdmDiscoveryUrl: { type: DataTypes.STRING(2000), allowNull: true },
      mdmWebhookSecret: { type: DataTypes.STRING(200), allowNull: true },
      mdmWebhookSecretCreatedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('organisations'),
  );
  AccountTemplate.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      organisationId: { type: DataTypes.INTEGER, allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      locale: { type: DataTypes.STRING(35), allowNull: false },
      timeZone: { type: DataTypes.STRING(64), allowNull: false },
      role: { type: DataTypes.STRING(100), allowNull: false },
      groups: json('groups'),
      validityDays: { type: DataTypes.INTEGER, allowNull: true },
      attributes: json('attributes'),
    },
    options('account_templates'),
  );
  DeviceTemplate.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      organisationId: { type: DataTypes.INTEGER, allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      platform: { type: DataTypes.STRING(16), allowNull: false },
      groups: json('groups'),
      description: { type: DataTypes.TEXT, allowNull: false },
      management: json('management'),
    },
    options('device_templates'),
  );
  OrganisationDeviceTemplate.init(
    {
      organisationId: { type: DataTypes.INTEGER, primaryKey: true },
      platform: { type: DataTypes.STRING(16), primaryKey: true },
      deviceTemplateId: { type: DataTypes.INTEGER, allowNull: false },
    },
    options('organisation_device_templates'),
  );
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      organisationId: { type: DataTypes.INTEGER, allowNull: false },
      email: { type: DataTypes.STRING(320), allowNull: false },
      firstName: { type: DataTypes.STRING(100), allowNull: false },
      lastName: { type: DataTypes.STRING(100), allowNull: false },
      phone: { type: DataTypes.STRING(20), allowNull: true },
      passwordHash: { type: DataTypes.STRING(200), allowNull: false },
      accountTemplateId: { type: DataTypes.INTEGER, allowNull: false },
      locale: { type: DataTypes.STRING(35), allowNull: false },
      timeZone: { type: DataTypes.STRING(64), allowNull: false },
      role: { type: DataTypes.STRING(100), allowNull: false },
      groups: json('groups'),
      validUntil: { type: DataTypes.DATE, allowNull: true },
      attributes: json('attributes'),
      registrationKey: { type: DataTypes.STRING(400), allowNull: false, unique: true },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    options('users'),
  );
  Device.init(
    {
      id: { type: DataTypes.STRING(36), primaryKey: true },
      organisationId: { type: DataTypes.INTEGER, allowNull: false },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      platform: { type: DataTypes.STRING(16), allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      deviceTemplateId: { type: DataTypes.INTEGER, allowNull: false },
      groups: json('groups'),
      description: { type: DataTypes.TEXT, allowNull: false },
      management: json('management'),
      state: { type: DataTypes.STRING(16), allowNull: false },
      linkNumber: { type: DataTypes.INTEGER, allowNull: false },
      linkTokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      linkExpiresAt: { type: DataTypes.DATE, allowNull: false },
      enrolledAt: { type: DataTypes.DATE, allowNull: true },
      deviceInfo: { type: DataTypes.JSON, allowNull: true },
      removedAt: { type: DataTypes.DATE, allowNull: true },
      identityKey: { type: DataTypes.STRING(64), allowNull: true },
      udid: { type: DataTypes.STRING(100), allowNull: true, unique: true },
      settingsStatus: { type: DataTypes.STRING(16), allowNull: true },
      settingsDetail: { type: DataTypes.JSON, allowNull: true },
      unenrolledAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    options('devices'),
  );
  Delivery.init(
    {
      key: { type: DataTypes.STRING(400), primaryKey: true },
      channel: { type: DataTypes.STRING(8), allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    options('deliveries'),
  );
  OutboxMessage.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      channel: { type: DataTypes.STRING(8), allowNull: false },
      recipient: { type: DataTypes.STRING(320), allowNull: false },
      subject: { type: DataTypes.STRING(500), allowNull: true },
      body: { type: DataTypes.TEXT, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    options('outbox_messages'),
  );
  ApiToken.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      role: { type: DataTypes.STRING(16), allowNull: false },
      organisationId: { type: DataTypes.INTEGER, allowNull: true },
      label: { type: DataTypes.STRING(200), allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      revokedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('api_tokens'),
  );
  RetiredLink.init(
    {
      linkTokenHash: { type: DataTypes.STRING(64), primaryKey: true },
      deviceId: { type: DataTypes.STRING(36), allowNull: false },
      retiredAt: { type: DataTypes.DATE, allowNull: false },
    },
    options('retired_links'),
  );
  ProvenPhone.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      phoneHash: { type: DataTypes.STRING(64), allowNull: false },
      provenAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    options('proven_phones'),
  );
  OwnerSession.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      lastSeenAt: { type: DataTypes.DATE, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      endedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('owner_sessions'),
  );
  MdmWebhookEvent.init(
    {
      eventKey: { type: DataTypes.STRING(128), primaryKey: true },
      receivedAt: { type: DataTypes.DATE, allowNull: false },
    },
    options('mdm_webhook_events'),
  );
  AdminUser.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.STRING(320), allowNull: false, unique: true },
      passwordHash: { type: DataTypes.STRING(200), allowNull: false },
      totpSecret: { type: DataTypes.STRING(200), allowNull: false },
      totpLastStep: { type: DataTypes.INTEGER, allowNull: true },
      role: { type: DataTypes.STRING(16), allowNull: false },
      organisationId: { type: DataTypes.INTEGER, allowNull: true },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      disabledAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('admin_users'),
  );
  AdminSession.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      adminUserId: { type: DataTypes.INTEGER, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      lastSeenAt: { type: DataTypes.DATE, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      endedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('admin_sessions'),
  );
  AdminSetupToken.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      purpose: { type: DataTypes.STRING(32), allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      usedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options('admin_setup_tokens'),
  );
  KnownDevice.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      accountKind: { type: DataTypes.STRING(8), allowNull: false },
      accountId: { type: DataTypes.INTEGER, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
    },
    options('known_devices'),
  );
  SpentFirstFactor.init(
    {
      id: { type: DataTypes.STRING(64), primaryKey: true },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
    },
    options('spent_first_factors'),
  );
  return {
    ApiToken,
    MdmWebhookEvent,
    SystemSettings,
    Organisation,
    AccountTemplate,
    DeviceTemplate,
    OrganisationDeviceTemplate,
    User,
    Device,
    Delivery,
    OutboxMessage,
    OwnerSession,
    RetiredLink,
    ProvenPhone,
    AdminUser,
    AdminSession,
    AdminSetupToken,
    KnownDevice,
    SpentFirstFactor,
  };
}

export type Models = ReturnType<typeof defineModels>;
