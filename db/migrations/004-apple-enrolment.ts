import { DataTypes, type QueryInterface } from 'sequelize';

/**
 * Apple enrolment through MDM: the identity the SCEP server issued for a link (once per link), the outcome of
 * installing the device template's settings, when the device checked out, and webhook events already taken.
 */
export async function up({ context: q }: { context: QueryInterface }) {
  // SHA-256 of the public key whose certificate request spent the link's SCEP challenge.
  await q.addColumn('devices', 'identity_key', { type: DataTypes.STRING(64), allowNull: true });
  await q.addColumn('devices', 'settings_status', { type: DataTypes.STRING(16), allowNull: true });
  await q.addColumn('devices', 'settings_detail', { type: DataTypes.JSON, allowNull: true });
  await q.addColumn('devices', 'unenrolled_at', { type: DataTypes.DATE, allowNull: true });
  await q.createTable('mdm_webhook_events', {
    event_key: { type: DataTypes.STRING(128), primaryKey: true },
    received_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('mdm_webhook_events');
  for (const column of ['unenrolled_at', 'settings_detail', 'settings_status', 'identity_key']) {
    await q.removeColumn('devices', column);
  }
}
