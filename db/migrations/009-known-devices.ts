import { DataTypes, type QueryInterface } from 'sequelize';

/**
 * Sign-in from known devices: the browsers and API clients an owner or admin signed in from, whose attempts are counted
 * apart from strangers'; and the admins' proven passwords already taken by a code, so that one is never taken twice.
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.createTable('known_devices', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    // The keyed hash of the device token: the token itself is only the client's.
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    // An owner's (users) or an admin's (admin_users) account: one table for both, so no foreign key.
    account_kind: { type: DataTypes.STRING(8), allowNull: false },
    account_id: { type: DataTypes.INTEGER, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
  });
  await q.addIndex('known_devices', ['account_kind', 'account_id'], { name: 'known_devices_account' });
  // The random id sealed in a proven password, written once when its code is taken (the primary key refuses a second
  // time), and kept only as long as the proof could be used.
  await q.createTable('spent_first_factors', {
    id: { type: DataTypes.STRING(64), primaryKey: true },
    expires_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('spent_first_factors');
  await q.dropTable('known_devices');
}
