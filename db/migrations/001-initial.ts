import { DataTypes, type QueryInterface } from 'sequelize';

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
const json = { type: DataTypes.JSON, allowNull: false };
const text = (length: number, allowNull = false) => ({ type: DataTypes.STRING(length), allowNull });
const created = { type: DataTypes.DATE, allowNull: false };
const references = (table: string, onDelete = 'RESTRICT') => ({ references: { model: table, key: 'id' }, onDelete });

export async function up({ context: q }: { context: QueryInterface }) {
  await q.createTable('organisations', {
    id,
    slug: { ...text(64), unique: true },
    name: text(200),
    enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    email_requirement: text(1000, true),
    account_template_id: { type: DataTypes.INTEGER, allowNull: true },
  });
  await q.createTable('system_settings', {
    id,
    device_setup_enabled: { type: DataTypes.BOOLEAN, allowNull: false },
    default_organisation_id: { type: DataTypes.INTEGER, allowNull: true, ...references('organisations', 'SET NULL') },
    platforms: json,
  });
  await q.createTable('account_templates', {
    id,
    organisation_id: { type: DataTypes.INTEGER, allowNull: false, ...references('organisations', 'CASCADE') },
    name: text(200),
    locale: text(35),
    time_zone: text(64),
    role: text(100),
    groups: json,
    validity_days: { type: DataTypes.INTEGER, allowNull: true },
    attributes: json,
  });
  await q.createTable('device_templates', {
    id,
    organisation_id: { type: DataTypes.INTEGER, allowNull: false, ...references('organisations', 'CASCADE') },
    name: text(200),
    platform: text(16),
    groups: json,
    description: { type: DataTypes.TEXT, allowNull: false },
    management: json,
  });
  await q.createTable('organisation_device_templates', {
    organisation_id: { type: DataTypes.INTEGER, primaryKey: true, ...references('organisations', 'CASCADE') },
    platform: { type: DataTypes.STRING(16), primaryKey: true },
    device_template_id: { type: DataTypes.INTEGER, allowNull: false, ...references('device_templates') },
  });
  await q.createTable('users', {
    id,
    organisation_id: { type: DataTypes.INTEGER, allowNull: false, ...references('organisations') },
    email: text(320),
    first_name: text(100),
    last_name: text(100),
    phone: text(20, true),
    password_hash: text(200),
    account_template_id: { type: DataTypes.INTEGER, allowNull: false },
    locale: text(35),
    time_zone: text(64),
    role: text(100),
    groups: json,
    valid_until: { type: DataTypes.DATE, allowNull: true },
    attributes: json,
    registration_key: { ...text(400), unique: true },
    created_at: created,
  });
  await q.addIndex('users', ['organisation_id', 'email'], { unique: true, name: 'users_organisation_email' });
  await q.createTable('devices', {
    id: { type: DataTypes.STRING(36), primaryKey: true },
    organisation_id: { type: DataTypes.INTEGER, allowNull: false, ...references('organisations') },
    user_id: { type: DataTypes.INTEGER, allowNull: false, ...references('users') },
    platform: text(16),
    name: text(200),
    device_template_id: { type: DataTypes.INTEGER, allowNull: false },
    groups: json,
    description: { type: DataTypes.TEXT, allowNull: false },
    management: json,
    state: text(16),
    link_number: { type: DataTypes.INTEGER, allowNull: false },
    link_token_hash: { ...text(64), unique: true },
    link_expires_at: { type: DataTypes.DATE, allowNull: false },
    enrolled_at: { type: DataTypes.DATE, allowNull: true },
    device_info: { type: DataTypes.JSON, allowNull: true },
    created_at: created,
  });
  await q.addIndex('devices', ['user_id'], { name: 'devices_user' });
  await q.createTable('deliveries', {
    key: { type: DataTypes.STRING(400), primaryKey: true },
    channel: text(8),
    created_at: created,
  });
  await q.createTable('outbox_messages', {
    id,
    channel: text(8),
    recipient: text(320),
    subject: text(500, true),
    body: { type: DataTypes.TEXT, allowNull: false },
    created_at: created,
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  for (const table of [
    'outbox_messages',
    'deliveries',
    'devices',
    'users',
    'organisation_device_templates',
    'device_templates',
    'account_templates',
    'system_settings',
    'organisations',
  ]) {
    await q.dropTable(table);
  }
}
