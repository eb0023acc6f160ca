import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { expect } from 'chai';
import { bundleWorkflows } from '../lib/worker';

/**
 * Histories of real runs (recorded by `npm run record-histories`) replayed through the current workflow code: a change
 * that would break running registrations (non-determinism) fails here first.
 */
describe('replay of saved histories', () => {
  const folder = path.join(__dirname, 'histories');
  const files = readdirSync(folder).filter((file) => file.endsWith('.json'));

  it('has histories of every workflow kind and ending to replay', () => {
    expect(files).to.include.members([
      'registration-completed.json',
      'registration-expired.json',
      'registration-relinked.json',
      'device-enrolled.json',
      'device-link-expired.json',
    ]);
  });

  it('replays every saved history without non-determinism', async function () {
    this.timeout(60_000);
    const workflowBundle = await bundleWorkflows();
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(folder, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle }, history, file);
    }
  });
});
