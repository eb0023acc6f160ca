import type { Request, RequestHandler, Response } from 'express';
import { clientAddress } from '../../services/attempts';
import { describeError, HttpError } from '../../services/errors';
import type { Owner } from '../../services/owners/accounts';
import type { OwnedDevice } from '../../services/owners/devices';
import { deviceForm, deviceIdParam, phoneCodeBody, phoneForm } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { html } from '../html';
import { organisationIn, refusalOf } from '../page-kit';
import { CODE_FIELDS, refusalMessage } from '../problems';
import { provisionPage } from '../provision.view';
import { devicePage } from '../setup/device.view';
import type { Page } from '../views/document';
import { blankForm, FORM_ERROR, type FormState, refused, refusedWith } from '../views/form';
import { cannotAddPage, deviceStatusPage, devicesPage, RELINK_PHONE, relinkPage, removePage } from './devices.view';
import { devicesOf, noticeIn, type OwnerKit } from './shared';

const ADDING_OFF = 'Adding devices is switched off at the moment. Your devices stay as they are.';
/** What My devices and the add page say at the organisation's limit of devices that are not removed; else nothing. */
const limitReached = ({ organisation }: Owner, list: OwnedDevice[]) => {
  const kept = list.filter((device) => device.state !== 'removed').length;
  if (kept < organisation.maxDevicesPerOwner) return undefined;
  return `You have ${kept} ${kept === 1 ? 'device' : 'devices'}, the most ${organisation.name} allows. Remove one to add another.`;
};
const ADD_FIELDS: Partial<Record<string, string>> = {
  platform_not_available: 'platform',
  phone_required: 'phone',
  invalid_phone: 'phone',
};
const ADD_PHONE = {
  ...RELINK_PHONE,
  hint: 'Only for Android: we send its link by SMS, and keep the number for next time. In international format, for example +447700900123.',
  optional: true,
};

const deviceIdIn = (req: Request) => {
  const id = deviceIdParam.safeParse(req.params.id);
  if (!id.success) throw new HttpError('device_not_found', 'You have no such device.');
  return id.data;
};

/** A signed-in page's way back to the list. */
const backToDevices = ({ body, ...page }: Page, slug: string): Page => ({
  ...page,
  body: html`${body}
<p><a href="${devicesOf(slug)}">Back to My devices</a></p>`,
});

/** My devices: the list, adding a device, a device's link and QR code, a new link for one, removing one. */
export function devicePages({ devices, show, signedInPage, answer }: OwnerKit) {
  const listView = async (req: Request, res: Response, owner: Owner, state?: FormState) => {
    const [list, platforms] = await Promise.all([devices.list(owner), devices.platforms(owner)]);
    const removed = typeof req.query.removed === 'string' && list.find((device) => device.id === req.query.removed);
    return devicesPage({
      organisation: owner.organisation,
      email: owner.user.email,
      devices: list,
      csrf: csrfToken(res),
      cannotAdd: platforms.length === 0 ? ADDING_OFF : limitReached(owner, list),
      notice: removed ? `${removed.name} has been removed.` : noticeIn(req),
      state,
    });
  };

  const cannotAdd = (res: Response, slug: string, title: string, message: string, status = 200) =>
    show(res, cannotAddPage({ organisation: slug, title, message }), status);
  const addingOff = (res: Response, slug: string, status = 200) =>
    cannotAdd(res, slug, 'You cannot add a device now', ADDING_OFF, status);

  const showAdd = async (res: Response, owner: Owner, state: FormState = blankForm, status = 200) => {
    const slug = owner.organisation.slug;
    const platforms = await devices.platforms(owner);
    if (platforms.length === 0) return addingOff(res, slug);
    const page = devicePage({
      organisation: slug,
      platforms,
      csrf: csrfToken(res),
      state,
      action: `${devicesOf(slug)}/new`,
      phone: owner.user.phone ? false : ADD_PHONE,
    });
    show(res, backToDevices({ ...page, title: 'Add a device' }, slug), status);
  };

  /** The new-link form again, for a phone number asked for or refused. */
  const showRelink = async (req: Request, res: Response, owner: Owner, state: FormState, status: number) => {
    const device = await devices.get(owner, deviceIdIn(req));
    show(res, relinkPage({ organisation: owner.organisation.slug, device, csrf: csrfToken(res), state }), status);
  };

  /** A new link refused: about the phone number on its form, about anything else on the list. */
  const relinkRefused = async (req: Request, res: Response, owner: Owner, error: unknown, phone?: string) => {
    const answer = refusalOf(error, res);
    // An Android device whose account has no number: the number is asked for, not refused.
    if (answer.code === 'phone_required' && !phone) return showRelink(req, res, owner, blankForm, 200);
    if (answer.code === 'phone_required' || answer.code === 'invalid_phone') {
      return showRelink(req, res, owner, refusedWith(req.body, 'phone', refusalMessage(answer)), answer.status);
    }
    show(res, await listView(req, res, owner, refusedWith({}, FORM_ERROR, refusalMessage(answer))), answer.status);
  };

  /** A device: its link, QR code and steps while the link is live (with the form for the SMS code), else its state. */
  const showDevice = async (req: Request, res: Response, owner: Owner, state = blankForm, status = 200) => {
    const slug = owner.organisation.slug;
    const id = deviceIdIn(req);
    const [device, link] = await Promise.all([devices.get(owner, id), devices.currentLink(owner, id)]);
    if (!link) return show(res, deviceStatusPage({ organisation: slug, device, csrf: csrfToken(res) }), status);
    const phoneCode = { action: `${devicesOf(slug)}/${id}/phone`, csrf: csrfToken(res), state };
    const page = await provisionPage({ organisation: slug, link, statusHref: devicesOf(slug), phoneCode });
    show(res, backToDevices(page, slug), status);
  };

  return {
    list: signedInPage(async (req, res, owner) => show(res, await listView(req, res, owner))),

    showAdd: signedInPage(async (_req, res, owner) => {
      const atLimit = limitReached(owner, await devices.list(owner));
      if (!atLimit) return showAdd(res, owner);
      cannotAdd(res, owner.organisation.slug, 'You have the most devices allowed', atLimit);
    }),

    add: signedInPage(async (req, res, owner) => {
      const slug = owner.organisation.slug;
      await answer(req, res, {
        schema: deviceForm,
        again: (state, status) => showAdd(res, owner, state, status),
        fields: ADD_FIELDS,
        run: async (choice) => `${devicesOf(slug)}/${(await devices.add(owner, choice)).id}`,
      }).catch((error: unknown) => {
        // Switched off since the form was shown: the page that says so rather than the error page.
        const code = describeError(error)?.code;
        if (code !== 'organisation_disabled' && code !== 'self_service_disabled') throw error;
        addingOff(res, slug, 403);
      });
    }),

    device: signedInPage((req, res, owner) => showDevice(req, res, owner)),

    provePhone: signedInPage(async (req, res, owner) => {
      const id = deviceIdIn(req);
      await answer(req, res, {
        schema: phoneCodeBody,
        again: (state, status) => showDevice(req, res, owner, state, status),
        fields: CODE_FIELDS,
        run: async ({ code }) => {
          await devices.provePhone(owner, id, code, clientAddress(req));
          return `${devicesOf(owner.organisation.slug)}/${id}`;
        },
      });
    }),

    toDevice: (req, res) => res.redirect(303, `${devicesOf(organisationIn(req))}/${deviceIdIn(req)}`),

    newLink: signedInPage(async (req, res, owner) => {
      const id = deviceIdIn(req);
      const input = phoneForm.safeParse(req.body ?? {});
      if (!input.success) return showRelink(req, res, owner, refused(req.body, input.error), 400);
      try {
        await devices.newLink(owner, id, input.data);
      } catch (error) {
        return relinkRefused(req, res, owner, error, input.data.phone);
      }
      res.redirect(303, `${devicesOf(owner.organisation.slug)}/${id}`);
    }),

    showRemove: signedInPage(async (req, res, owner) => {
      const device = await devices.get(owner, deviceIdIn(req));
      show(res, removePage({ organisation: owner.organisation.slug, device, csrf: csrfToken(res) }));
    }),

    remove: signedInPage(async (req, res, owner) => {
      const id = deviceIdIn(req);
      await devices.remove(owner, id);
      res.redirect(303, `${devicesOf(owner.organisation.slug)}?removed=${id}`);
    }),
  } satisfies Record<string, RequestHandler>;
}
