import { DataTypes, type QueryInterface } from 'sequelize';

/** Returning device owners: a per-organisation device limit, removed devices, and sign-in sessions. */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.addColumn('organisations', 'max_devices_per_owner', {
    type: DataTypes.INTEGER,
    allowNull: false,
    defaultValue: 5,
  });
  await q.addColumn('devices', 'removed_at', { type: DataTypes.DATE, allowNull: true });
  await q.createTable('owner_sessions', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    user_id: {
      type: DataTypes.INTEGER,
      allowNull: false,
      references: { model: 'users', key: 'id' },
      onDelete: 'CASCADE',
    },
    created_at: { type: DataTypes.DATE, allowNull: false },
    last_seen_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    ended_at: { type: DataTypes.DATE, allowNull: true },
  });
  await q.addIndex('owner_sessions', ['user_id'], { name: 'owner_sessions_user' });
  // Links replaced by a newer one, so they answer "expired" rather than "unknown".
  await q.createTable('retired_links', {
    link_token_hash: { type: DataTypes.STRING(64), primaryKey: true },
    device_id: {
      type: DataTypes.STRING(36),
      allowNull: false,
      references: { model: 'devices', key: 'id' },
      onDelete: 'CASCADE',
    },
    retired_at: { type: DataTypes.DATE, allowNull: false },
  });
  // Failed sign-ins per account and per client address, shared by every API process; the layout is the one
  // rate-limiter-flexible's SQLite and PostgreSQL stores use (it is told the table exists).
  await q.createTable('sign_in_limits', {
    key: { type: DataTypes.STRING(255), primaryKey: true },
    points: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    expire: { type: DataTypes.BIGINT, allowNull: true },
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('sign_in_limits');
  await q.dropTable('retired_links');
  await q.dropTable('owner_sessions');
  await q.removeColumn('devices', 'removed_at');
  await q.removeColumn('organisations', 'max_devices_per_owner');
}
