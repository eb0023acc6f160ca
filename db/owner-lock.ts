import type { Sequelize, Transaction } from 'sequelize';
import type { Models } from './models';

/** Per database, the tail of this process's queue of owner-exclusive work on SQLite. */
const sqliteQueues = new WeakMap<Sequelize, Promise<unknown>>();

/**
 * Runs work that must see an owner's records unchanged until it is done (count their devices, then add one).
 * PostgreSQL: a transaction holding the owner's row lock, so API and worker processes on many machines take turns.
 * SQLite (one machine): this process's queue, on the shared connection. A transaction there would take a connection
 * of its own, and node-sqlite3 waits out a busy database on libuv's four worker threads: writers on the shared
 * connection then fill them while the transaction waits for one to commit — seconds of stall under load.
 */
export function exclusivelyForOwner<T>(
  models: Models,
  userId: number,
  work: (transaction?: Transaction) => Promise<T>,
): Promise<T> {
  const sequelize = models.User.sequelize as Sequelize;
  if (sequelize.getDialect() === 'postgres') {
    return sequelize.transaction(async (transaction) => {
      await models.User.findByPk(userId, { transaction, lock: transaction.LOCK.UPDATE });
      return work(transaction);
    });
  }
  const run = () => work();
  const result = (sqliteQueues.get(sequelize) ?? Promise.resolve()).then(run, run);
  sqliteQueues.set(
    sequelize,
    result.catch(() => undefined),
  );
  return result;
}
