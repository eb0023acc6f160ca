import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type Request, Router } from 'express';
import type { Device } from '../db/models';
import { enrolmentProfile } from '../lib/apple-profiles';
import { checkInUrl, type EnrolmentPayload, enrolmentPayload, MDM_MANAGED } from '../lib/platforms';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import { checkInBody, opaqueParam } from '../services/schemas';
import { checkInUpdate, deviceWorkflowId } from '../workflows/messages';

/** What the device itself calls: its single-use provisioning link, and its first check-in. */
export function provisioningRoutes({ client, models, secrets, config, apple }: ServiceDeps) {
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

  /** An iPhone's, iPad's or Mac's enrolment profile: its identity from SCEP, then NanoMDM through our check-in. */
  const appleProfile = async (device: Device): Promise<EnrolmentPayload> => {
    if (!apple) throw new HttpError('platform_not_available', 'Apple devices cannot be enrolled at the moment.');
    const enrolmentId = secrets.enrolmentId(device.id, device.linkNumber);
    const organisation = await models.Organisation.findByPk(device.organisationId);
    const query = `?enrolment=${encodeURIComponent(enrolmentId)}`;
    return {
      contentType: 'application/x-apple-aspen-config',
      fileName: 'enrolment.mobileconfig',
      body: enrolmentProfile({
        enrolmentId,
        deviceName: device.name,
        organisationName: organisation?.name ?? config.siteName,
        scep: {
          url: `${config.publicUrl}/mdm/scep`,
          challenge: secrets.scepChallenge(enrolmentId),
          subject: enrolmentId,
        },
        mdm: {
          serverUrl: `${config.publicUrl}/mdm/connect${query}`,
          checkInUrl: `${config.publicUrl}/mdm/checkin${query}`,
          topic: apple.topic,
        },
      }),
    };
  };

  const pages = Router();
  pages.get('/provision/:token', async (req, res) => {
    const device = await usableDevice(req);
    const payload = MDM_MANAGED.has(device.platform)
      ? await appleProfile(device)
      : enrolmentPayload({
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
    if (MDM_MANAGED.has(device.platform)) {
      throw new HttpError(
        'wrong_step',
        'iPhones, iPads and Macs check in through device management, with the profile.',
      );
    }
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
