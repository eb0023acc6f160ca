import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type Request, Router } from 'express';
import type { Device } from '../db/models';
import { checkInUrl, enrolmentPayload } from '../lib/platforms';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import { checkInBody, opaqueParam } from '../services/schemas';
import { checkInUpdate, deviceWorkflowId } from '../workflows/messages';

/** What the device itself calls: its single-use provisioning link, and its first check-in. */
export function provisioningRoutes({ client, models, secrets, config }: ServiceDeps) {
  /** The device a link belongs to, if the link can still be used; the reason it cannot, otherwise. */
  const usableDevice = async (req: Request): Promise<Device> => {
    const token = opaqueParam.safeParse(req.params.token);
    const hash = token.success ? secrets.keyedHash('link', token.data) : undefined;
    const device = hash ? await models.Device.findOne({ where: { linkTokenHash: hash } }) : null;
    if (!device) {
      // A link replaced by a newer one is dead, not unknown: say so, as for any other expired link.
      if (hash && (await models.RetiredLink.findByPk(hash))) throw linkExpired();
      throw new HttpError('link_not_found', 'This provisioning link does not exist.');
    }
    refuseSpentLink(device);
    return device;
  };

  const pages = Router();
  pages.get('/provision/:token', async (req, res) => {
    const device = await usableDevice(req);
    const payload = enrolmentPayload({
      platform: device.platform,
      deviceId: device.id,
      deviceName: device.name,
      checkInUrl: checkInUrl(config.publicUrl, req.params.token as string),
      management: device.management,
    });
    res
      .type(payload.contentType)
      .set('Content-Disposition', `attachment; filename="${payload.fileName}"`)
      .set('Cache-Control', 'no-store')
      .send(payload.body);
  });

  const api = Router();
  api.post('/provision/:token/checkin', async (req, res) => {
    const { deviceInfo } = checkInBody.parse(req.body ?? {});
    const device = await usableDevice(req);
    try {
      const outcome = await client.workflow
        .getHandle(deviceWorkflowId(device.id))
        .executeUpdate(checkInUpdate, { args: [{ deviceInfo }] });
      res.json({ deviceId: device.id, state: outcome.state });
    } catch (error) {
      // The device workflow has ended since we looked: the database says why the link is dead now.
      if (error instanceof WorkflowNotFoundError || (error instanceof WorkflowUpdateFailedError && !error.cause)) {
        await device.reload();
        refuseSpentLink(device);
      }
      throw error;
    }
  });

  return { pages, api };
}

const linkExpired = () => new HttpError('link_expired', 'This provisioning link has expired. Ask for a new one.');

function refuseSpentLink(device: Device): void {
  const state = device.stateNow();
  if (state === 'enrolled') throw new HttpError('link_used', 'This provisioning link has already been used.');
  if (state !== 'link-issued') throw linkExpired();
}
