import { closeServer, openBase, startApi, startWorker, stopOnSignal } from './compose';
import { runMain } from './run';

/** `npm start`: the whole system in one process — Temporal dev server (unless TEMPORAL_ADDRESS), worker, API. */
async function main() {
  const base = await openBase({ embedded: true, servesApi: true });
  const { config, logger, temporal, db } = base;
  const { worker, running } = await startWorker(base);
  const server = await startApi(base);
  stopOnSignal(logger, [
    () => closeServer(server),
    async () => {
      worker.shutdown();
      await running;
    },
    () => temporal.close(),
    () => base.apple.stop(),
    () => db.close(),
  ]);
  const ui = config.temporal.address ? '(your cluster’s Web UI)' : `http://localhost:${config.temporal.uiPort}`;
  console.log(
    [
      '',
      'Self-Service Setup is running.',
      `  Device owners     ${config.publicUrl}/setup`,
      `  API               ${config.publicUrl}/api  (described at ${config.publicUrl}/api/openapi.json)`,
      `  Temporal          ${temporal.address}${config.temporal.address ? '' : `  (dev server, data in ${config.dataDir}/temporal.db)`}`,
      `  Temporal Web UI   ${ui}`,
      `  Database          ${config.databaseUrl.replace(/\/\/[^@]*@/, '//***@')}`,
      `  Mail              ${config.smtpUrl ? 'SMTP' : `local outbox: ${config.publicUrl}/dev/outbox`}`,
      `  SMS               ${config.twilio ? 'Twilio' : `local outbox: ${config.publicUrl}/dev/outbox`}`,
      `  Apple enrolment   ${base.apple.apple ? `NanoMDM ${base.apple.apple.nanomdmUrl}, SCEP ${base.apple.apple.scepUrl}` : base.apple.off}`,
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  await running;
}

runMain(main);
