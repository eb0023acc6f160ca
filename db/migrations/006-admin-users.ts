import { DataTypes, type QueryInterface } from 'sequelize';

/** The admin console's people: supervisors and organisation managers, their sessions, the first set-up link. */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.createTable('admin_users', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    // Always lower case (the forms' schema makes it so): one address, one admin.
    email: { type: DataTypes.STRING(320), allowNull: false, unique: true },
    password_hash: { type: DataTypes.STRING(200), allowNull: false },
    // Sealed (`Secrets.seal`): the code check needs it back, so it cannot be hashed.
    totp_secret: { type: DataTypes.STRING(200), allowNull: false },
    // The time step of the last code taken: a code of that step or an earlier one is refused (replay).
    totp_last_step: { type: DataTypes.INTEGER, allowNull: true },
    role: { type: DataTypes.STRING(16), allowNull: false },
    organisation_id: {
      type: DataTypes.INTEGER,
      allowNull: true,
      references: { model: 'organisations', key: 'id' },
      onDelete: 'CASCADE',
    },
    created_at: { type: DataTypes.DATE, allowNull: false },
    disabled_at: { type: DataTypes.DATE, allowNull: true },
  });
  await q.createTable('admin_sessions', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    admin_user_id: {
      type: DataTypes.INTEGER,
      allowNull: false,
      references: { model: 'admin_users', key: 'id' },
      onDelete: 'CASCADE',
    },
    created_at: { type: DataTypes.DATE, allowNull: false },
    last_seen_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    ended_at: { type: DataTypes.DATE, allowNull: true },
  });
  await q.addIndex('admin_sessions', ['admin_user_id'], { name: 'admin_sessions_admin_user' });
  await q.createTable('admin_setup_tokens', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    purpose: { type: DataTypes.STRING(32), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
    used_at: { type: DataTypes.DATE, allowNull: true },
  });
  // At most one unused link per purpose: API processes starting together on an empty database race to make the first
  // supervisor's link, and only the one that wins prints it, so there is never a second valid link nobody saw.
  await q.addIndex('admin_setup_tokens', ['purpose'], {
    name: 'admin_setup_tokens_one_unused',
    unique: true,
    where: { used_at: null },
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('admin_setup_tokens');
  await q.dropTable('admin_sessions');
  await q.dropTable('admin_users');
}
