import { DataTypes, type QueryInterface, QueryTypes } from 'sequelize';

/**
 * One enrolment per Apple device: the UDID an enrolment holds in NanoMDM, which knows a device by its UDID alone. A
 * unique index makes two enrolments holding one UDID impossible, whatever races.
 */
export async function up({ context: q }: { context: QueryInterface }) {
  await q.addColumn('devices', 'udid', { type: DataTypes.STRING(100), allowNull: true });
  // The devices enrolled before: each UDID goes to the enrolment NanoMDM follows for it, the last one authenticated
  // (an enrolled one first); the others (an older enrolment of the same device, or one that took its UDID) hold none.
  const rows = await q.sequelize.query<{ id: string; state: string; device_info: unknown; at: string | Date }>(
    `SELECT id, state, device_info, COALESCE(enrolled_at, created_at) AS at FROM devices
     WHERE platform IN ('ios', 'macos') AND device_info IS NOT NULL`,
    { type: QueryTypes.SELECT },
  );
  const udidOf = (info: unknown) => {
    const udid = ((typeof info === 'string' ? JSON.parse(info) : info) as { udid?: unknown } | null)?.udid;
    return typeof udid === 'string' ? udid : undefined;
  };
  const ranked = rows
    .map((row) => ({
      id: row.id,
      udid: udidOf(row.device_info),
      enrolled: row.state === 'enrolled' ? 1 : 0,
      at: new Date(row.at).getTime(),
    }))
    .sort((a, b) => a.enrolled - b.enrolled || a.at - b.at);
  // The last of each UDID in that order wins.
  const holders = new Map(ranked.filter((row) => row.udid !== undefined).map((row) => [row.udid as string, row.id]));
  for (const [udid, id] of holders) {
    await q.sequelize.query('UPDATE devices SET udid = :udid WHERE id = :id', { replacements: { udid, id } });
  }
  await q.addIndex('devices', ['udid'], { name: 'devices_one_enrolment_per_udid', unique: true });
}

export async function down({ context: q }: { context: QueryInterface }) {
  await q.removeIndex('devices', 'devices_one_enrolment_per_udid');
  await q.removeColumn('devices', 'udid');
}
