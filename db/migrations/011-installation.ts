import { DataTypes, type QueryInterface } from 'sequelize';

/**
 * Facts about this installation decided once, when its database is made (db/index.ts fills the one row): whether
 * Temporal payloads without our encryption are accepted by default (`accept` for a database that existed before, which
 * may belong to an installation from before encryption; `refuse` for a new one).
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.createTable('installation', {
    id: { type: DataTypes.INTEGER, primaryKey: true },
    plaintext_payloads: { type: DataTypes.STRING(8), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('installation');
}
