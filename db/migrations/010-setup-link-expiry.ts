import { DataTypes, type QueryInterface } from 'sequelize';

/** A day: ADMIN_SETUP_LINK_TTL's default, given to the links made before links expired. */
const DAY_MS = 86_400_000;

/**
 * The first supervisor's set-up link expires (ADMIN_SETUP_LINK_TTL). A link made before has no expiry of its own: it
 * gets the default's day from the upgrade, after which `npm run admin:setup-link` makes a new one.
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.addColumn('admin_setup_tokens', 'expires_at', { type: DataTypes.DATE, allowNull: true });
  await q.bulkUpdate('admin_setup_tokens', { expires_at: new Date(Date.now() + DAY_MS) }, {});
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.removeColumn('admin_setup_tokens', 'expires_at');
}
