import { DataTypes, type QueryInterface } from 'sequelize';

/**
 * Android and Windows enrolment: the organisation's Windows MDM discovery URL, and the secret its external
 * MDM signs enrolment reports with (sealed under APP_SECRET: it must be read back to check signatures).
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.addColumn('organisations', 'windows_mdm_discovery_url', { type: DataTypes.STRING(2000), allowNull: true });
  await q.addColumn('organisations', 'mdm_webhook_secret', { type: DataTypes.STRING(200), allowNull: true });
  await q.addColumn('organisations', 'mdm_webhook_secret_created_at', { type: DataTypes.DATE, allowNull: true });
}

export async function down({ context: q }: { context: QueryInterface }) {
  for (const column of ['mdm_webhook_secret_created_at', 'mdm_webhook_secret', 'windows_mdm_discovery_url']) {
    await q.removeColumn('organisations', column);
  }
}
