import { DataTypes, type QueryInterface } from 'sequelize';

/**
 * The mobile numbers an owner has proven with a code sent to them, one row per account and number: only such a number
 * is sent a provisioning link by SMS. The number is kept as its keyed hash: all that is asked is whether it is proven.
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.createTable('proven_phones', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    user_id: {
      type: DataTypes.INTEGER,
      allowNull: false,
      references: { model: 'users', key: 'id' },
      onDelete: 'CASCADE',
    },
    phone_hash: { type: DataTypes.STRING(64), allowNull: false },
    proven_at: { type: DataTypes.DATE, allowNull: false },
  });
  await q.addIndex('proven_phones', ['user_id', 'phone_hash'], { name: 'proven_phones_user_phone', unique: true });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.dropTable('proven_phones');
}
