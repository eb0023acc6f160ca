import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { expect } from 'chai';
import { encryptingDataConverter } from '../lib/codec';
import { bundleWorkflows } from '../lib/worker';
import { CODEC_KEYS } from './support/system';

/**
 * Histories of real runs (recorded by `npm run record-histories`) replayed through the current workflow code: a change
 * that would break running registrations (non-determinism) fails here first. Older generations stay: `before-encryption/`
 * (plain payloads, which must still decode), `before-local-steps/` (ordinary step activities, replayed on the
 * `lean-steps-v1` patch's old path), `before-apple-mdm/` (device runs that ended at enrolment for every platform,
 * replayed on the `apple-mdm-v1` patch's old path) and `before-returning-owners/` (device runs without reminders or removal, and
 * registrations whose verification codes were kept before the code rules moved to workflows/codes.ts) and
 * `before-admin-console/` (runs before operators' updates, the raced wait for an ended registration and `remove`'s
 * `{ by }`) and `before-furthest-step/` (registrations that kept no RegistrationReached, replayed on the
 * `furthest-step-v1` patch's old path).
 */
describe('replay of saved histories', () => {
  const folder = path.join(__dirname, 'histories');
  const files = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.json'));
  const kinds = [
    'registration-completed',
    'registration-expired',
    'registration-relinked',
    'device-enrolled',
    'device-link-expired',
  ];
  /** Runs only the current code makes: devices a signed-in owner added, relinked or removed, and password resets. */
  const currentKinds = [
    'device-added-enrolled',
    'device-added-reminded-expired',
    'device-relinked-enrolled',
    'device-removed',
    'password-reset-changed',
  ];
  /** Runs that begin with Apple MDM: an enrolled Mac's life under management, to its removal and check-out. */
  const appleKinds = ['managed-device-removed'];
  /** Runs that begin with a removal taking over a device whose managed run an operator ended. */
  const takeOverKinds = ['managed-device-taken-over'];
  /** Runs that begin with the admin console: an operator's new code and end, and invitations to manage an organisation. */
  const adminKinds = ['registration-ended-by-operator', 'invitation-resent-accepted', 'invitation-withdrawn'];

  const everyKind = [...kinds, ...currentKinds, ...appleKinds, ...adminKinds, ...takeOverKinds];

  it('has histories of every workflow kind and ending, from every generation of the workflow code', () => {
    expect(files).to.include.members([
      ...everyKind.map((kind) => `${kind}.json`),
      ...everyKind.map((kind) => path.join('before-furthest-step', `${kind}.json`)),
      ...[...kinds, ...currentKinds, ...appleKinds].map((kind) => path.join('before-admin-console', `${kind}.json`)),
      ...[...kinds, ...currentKinds].map((kind) => path.join('before-apple-mdm', `${kind}.json`)),
      ...kinds.map((kind) => path.join('before-encryption', `${kind}.json`)),
      ...kinds.map((kind) => path.join('before-local-steps', `${kind}.json`)),
      ...kinds.map((kind) => path.join('before-returning-owners', `${kind}.json`)),
    ]);
  });

  it('replays every saved history without non-determinism', async function () {
    this.timeout(60_000);
    const workflowBundle = await bundleWorkflows();
    // As an installation from before encryption reads them: its oldest histories hold payloads in clear.
    const dataConverter = encryptingDataConverter(CODEC_KEYS, 'accept');
    // One replay worker for every history: a worker of its own for each cost its start and shutdown, history after history.
    const histories = files.map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(readFileSync(path.join(folder, file), 'utf8'))),
    }));
    let replayed = 0;
    for await (const { workflowId, error } of Worker.runReplayHistories({ workflowBundle, dataConverter }, histories)) {
      if (error) expect.fail(`${workflowId}: ${error.message}`);
      replayed += 1;
    }
    expect(replayed).to.equal(files.length);
  });
});
