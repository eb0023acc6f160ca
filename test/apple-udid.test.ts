import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Op } from 'sequelize';
import { type HttpAnswer, type MdmCommand, type SimulatedAppleDevice, simulatedDevices } from './support/apple-device';
import { eventually, withDevice } from './support/flow';
import { type ApiUnderTest, SUPERVISOR_TOKEN, system } from './support/system';

const VICTIMS = 'udid-victims';
const STRANGERS = 'udid-strangers';
const PASSWORD = 'a long passphrase';
const MANAGEMENT = { restrictions: { allowCamera: false } };
/** An iPhone's UDID nobody has used. */
const newUdid = () => `00008120-${randomBytes(8).toString('hex').toUpperCase()}`;

/** A refusal as the device sees it: a 4xx in the API's error shape, with its code. */
const expectRefused = (answer: HttpAnswer, status: number, code: string) => {
  expect(answer.status, answer.body).to.equal(status);
  expect(JSON.parse(answer.body)).to.have.nested.property('error.code', code);
};

/**
 * NanoMDM knows a device by its UDID alone, and a UDID is no secret: no enrolment may speak with the UDID another one
 * holds, and an enrolment speaks only with the UDID its device gave at Authenticate.
 */
describe('Apple enrolment: one UDID, one enrolment', function () {
  this.timeout(120_000);
  let api: ApiUnderTest;
  const newDevice = simulatedDevices();

  before(async () => {
    for (const slug of [VICTIMS, STRANGERS]) {
      const { deviceTemplates } = await system().createOrganisation(slug, { platforms: ['ios', 'macos'] });
      for (const platform of ['ios', 'macos'] as const) {
        await system().db.models.DeviceTemplate.update(
          { management: MANAGEMENT },
          { where: { id: deviceTemplates.get(platform) as number } },
        );
      }
    }
    api = await system().startDeviceFacingApi();
  });

  const record = (deviceId: string) => system().db.models.Device.findByPk(deviceId);
  const ownerSession = async (organisation: string, email: string) => {
    const answer = await api.call('POST', '/api/session', { body: { organisation, email, password: PASSWORD } });
    expect(answer.status, answer.text).to.equal(200);
    return answer.body.token as string;
  };
  /** The device takes the commands queued for it (at least one), answering each Acknowledged; returns their types. */
  const commandsOf = async (device: SimulatedAppleDevice) =>
    (
      await eventually(
        () => device.processCommands(),
        (received) => received.length > 0,
      )
    ).map((command: MdmCommand) => command.Command.RequestType);

  /** An owner of the organisation with an enrolled iPhone that has its settings. */
  const enrolledIphone = async (organisation = VICTIMS, options?: { udid?: string }) => {
    const r = await withDevice(api, organisation, 'ios');
    const iphone = newDevice(options);
    await iphone.enrol(r.device.provisioningUrl);
    expect(await commandsOf(iphone)).to.deep.equal(['InstallProfile']);
    return { r, iphone };
  };

  /** A stranger's own link, profile and identity, on a device that says it is `udid`. */
  const strangerAs = async (udid: string, organisation = STRANGERS) => {
    const r = await withDevice(api, organisation, 'ios');
    const device = newDevice({ udid });
    await device.openLink(r.device.provisioningUrl);
    await device.getIdentity();
    return { r, device };
  };

  const withUdid = async (udid: string) =>
    system()
      .db.models.Device.findAll({
        where: { platform: { [Op.in]: ['ios', 'macos'] }, state: 'enrolled' },
      })
      .then((rows) => rows.filter((row) => row.deviceInfo?.udid === udid));

  it("another organisation's enrolment cannot take an enrolled iPhone's UDID; the iPhone keeps working and its removal reaches it", async () => {
    const { r, iphone } = await enrolledIphone();
    const stranger = await strangerAs(iphone.udid);
    // Refused before NanoMDM sees it; a device does not send TokenUpdate after a refused Authenticate, a stranger does.
    expectRefused(await stranger.device.checkIn('Authenticate'), 409, 'udid_in_use');
    expectRefused(await stranger.device.checkIn('TokenUpdate'), 409, 'wrong_step');
    expectRefused(await stranger.device.connect({ status: 'Idle' }), 403, 'forbidden');
    const theirs = await record(stranger.r.device.id);
    expect(theirs?.state).to.equal('link-issued');
    expect(theirs?.deviceInfo).to.equal(null);

    // The iPhone still connects and answers commands; the console lists one enrolled device with its UDID.
    expect((await iphone.connect({ status: 'Idle' })).status).to.equal(200);
    expect((await withUdid(iphone.udid)).map((row) => row.id)).to.deep.equal([r.device.id]);
    for (const slug of [VICTIMS, STRANGERS]) {
      const listed = await api.call('GET', `/api/organisations/${slug}/devices`, { token: SUPERVISOR_TOKEN });
      const named = listed.body.devices.filter(
        (device: { deviceInfo: { udid?: string } | null }) => device.deviceInfo?.udid === iphone.udid,
      );
      expect(named.map((device: { id: string }) => device.id)).to.deep.equal(slug === VICTIMS ? [r.device.id] : []);
    }

    // The owner removes it: RemoveProfile reaches the iPhone, which lets go and checks out.
    const token = await ownerSession(VICTIMS, r.email);
    expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
    // Removed, but RemoveProfile has not reached it yet: the UDID is still its, against anyone but its owner.
    expectRefused(await stranger.device.checkIn('Authenticate'), 409, 'udid_in_use');
    expect(await commandsOf(iphone)).to.deep.equal(['RemoveProfile']);
    expect(iphone.enrolled).to.equal(false);
    const stored = await eventually(
      () => record(r.device.id),
      (device) => Boolean(device?.unenrolledAt),
    );
    expect(stored?.state).to.equal('removed');
  });

  it('an enrolment speaks only with the UDID its device gave at Authenticate', async () => {
    const victim = await enrolledIphone();
    // An authenticated device cannot authenticate again as another one.
    const pending = await strangerAs(newUdid());
    expect((await pending.device.checkIn('Authenticate')).status).to.equal(200);
    const other = newDevice({ udid: victim.iphone.udid });
    other.profile = pending.device.profile;
    other.useIdentity(pending.device.identity as NonNullable<typeof pending.device.identity>);
    expectRefused(await other.checkIn('Authenticate'), 410, 'link_used');
    expect((await record(pending.r.device.id))?.deviceInfo).to.include({ udid: pending.device.udid });

    // An enrolled stranger's identity, speaking as the victim's iPhone: every message is refused.
    const stranger = await enrolledIphone(STRANGERS);
    const impostor = newDevice({ udid: victim.iphone.udid });
    impostor.profile = stranger.iphone.profile;
    impostor.useIdentity(stranger.iphone.identity as NonNullable<typeof stranger.iphone.identity>);
    expectRefused(await impostor.checkIn('Authenticate'), 410, 'link_used');
    expectRefused(await impostor.checkIn('TokenUpdate'), 410, 'link_used');
    expectRefused(await impostor.checkIn('CheckOut'), 404, 'enrolment_not_found');
    expectRefused(await impostor.connect({ status: 'Idle' }), 403, 'forbidden');
    const uuid = '3A5B8C7D-0000-4000-8000-000000000001';
    expectRefused(await impostor.connect({ status: 'Acknowledged', commandUuid: uuid }), 403, 'forbidden');

    // Both real devices go on as before.
    expect((await victim.iphone.connect({ status: 'Idle' })).status).to.equal(200);
    expect((await stranger.iphone.connect({ status: 'Idle' })).status).to.equal(200);
    expect((await record(victim.r.device.id))?.state).to.equal('enrolled');
    expect((await record(stranger.r.device.id))?.state).to.equal('enrolled');
  });

  it('two enrolments authenticating one UDID at once: one holds it, the other is refused', async () => {
    const udid = newUdid();
    const contenders = await Promise.all([strangerAs(udid, VICTIMS), strangerAs(udid, STRANGERS)]);
    const answers = await Promise.all(contenders.map(({ device }) => device.checkIn('Authenticate')));
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 409]);
    const winner = contenders[answers.findIndex((answer) => answer.status === 200)];
    const loser = contenders[answers.findIndex((answer) => answer.status === 409)];
    expectRefused(await loser.device.checkIn('TokenUpdate'), 409, 'wrong_step');
    expect((await winner.device.checkIn('TokenUpdate')).status).to.equal(200);
    expect(await commandsOf(winner.device)).to.deep.equal(['InstallProfile']);
    expect((await withUdid(udid)).map((row) => row.id)).to.deep.equal([winner.r.device.id]);
  });

  describe('the same device enrols again', () => {
    /** The owner adds another iPhone: a new device record and link. */
    const newLink = async (organisation: string, email: string) => {
      const token = await ownerSession(organisation, email);
      const added = await api.call('POST', '/api/me/devices', { token, body: { platform: 'ios' } });
      expect(added.status, added.text).to.equal(201);
      return { token, device: added.body.device as { id: string; provisioningUrl: string } };
    };

    it('after it checked out, with a new key on a new link; the old enrolment no longer speaks for it', async () => {
      const { r, iphone } = await enrolledIphone();
      // Its first identity, as someone who copied it before the profile was removed would hold it.
      const kept = iphone.identity as NonNullable<typeof iphone.identity>;
      expect((await iphone.removeProfile())?.status).to.equal(200);
      expect((await record(r.device.id))?.state).to.equal('unenrolled');
      const { device } = await newLink(VICTIMS, r.email);
      const again = newDevice({ udid: iphone.udid, serialNumber: iphone.serialNumber });
      await again.enrol(device.provisioningUrl);
      expect(await commandsOf(again)).to.deep.equal(['InstallProfile']);
      expect((await record(device.id))?.udid).to.equal(iphone.udid);
      // The first enrolment's identity cannot speak for the device any more.
      const old = newDevice({ udid: iphone.udid });
      old.profile = iphone.profile;
      old.useIdentity(kept);
      expectRefused(await old.connect({ status: 'Idle' }), 403, 'forbidden');
      expectRefused(await old.checkIn('Authenticate'), 410, 'link_used');
    });

    it('after it was erased and then removed in My devices without ever checking out', async () => {
      const { r, iphone } = await enrolledIphone();
      const token = await ownerSession(VICTIMS, r.email);
      // Erased: the iPhone never connects again, so RemoveProfile waits in NanoMDM and no CheckOut comes.
      expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
      const { device } = await newLink(VICTIMS, r.email);
      const again = newDevice({ udid: iphone.udid, serialNumber: iphone.serialNumber });
      await again.enrol(device.provisioningUrl);
      expect(await commandsOf(again)).to.include('InstallProfile');
      expect((await record(device.id))?.state).to.equal('enrolled');
      expect((await record(r.device.id))?.udid).to.equal(null);
    });

    it('while its old record is still enrolled: refused until that one is removed', async () => {
      const { r, iphone } = await enrolledIphone();
      const { token, device } = await newLink(VICTIMS, r.email);
      const erased = newDevice({ udid: iphone.udid });
      await erased.openLink(device.provisioningUrl);
      await erased.getIdentity();
      expectRefused(await erased.checkIn('Authenticate'), 409, 'udid_in_use');
      // The owner removes the old one, then the device with a new link (the refused one's identity is spent).
      expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
      expect((await api.call('DELETE', `/api/me/devices/${device.id}`, { token })).status).to.equal(204);
      const retry = await newLink(VICTIMS, r.email);
      const again = newDevice({ udid: iphone.udid });
      await again.enrol(retry.device.provisioningUrl);
      expect(await commandsOf(again)).to.include('InstallProfile');
    });
  });

  it('a link that expired after its device authenticated: the new link enrols a device with its own key and UDID', async () => {
    const shortLinks = await system().startDeviceFacingApi({ timings: { linkTtlMs: 4_000 } });
    const { r } = await enrolledIphone();
    const token = await ownerSession(VICTIMS, r.email);
    const added = await shortLinks.call('POST', '/api/me/devices', { token, body: { platform: 'ios' } });
    expect(added.status, added.text).to.equal(201);
    const { id, provisioningUrl } = added.body.device as { id: string; provisioningUrl: string };
    const first = newDevice();
    await first.openLink(provisioningUrl);
    await first.getIdentity();
    expect((await first.checkIn('Authenticate')).status).to.equal(200);
    await system().temporal.client.workflow.getHandle(`device/${id}`).result();
    expect((await record(id))?.state).to.equal('link-expired');
    const renewed = await shortLinks.call('POST', `/api/me/devices/${id}/link`, { token });
    expect(renewed.status, renewed.text).to.equal(201);
    const other = newDevice();
    await other.enrol(renewed.body.device.provisioningUrl);
    expect((await record(id))?.udid).to.equal(other.udid);
    expect(await commandsOf(other)).to.deep.equal(['InstallProfile']);
  });

  it("a Mac's user channel speaks with the Mac's UDID only", async () => {
    const r = await withDevice(api, VICTIMS, 'macos');
    const mac = newDevice({ productName: 'Mac14,7' });
    await mac.enrol(r.device.provisioningUrl);
    expect(await commandsOf(mac)).to.deep.equal(['InstallProfile']);
    const user = { UserID: '2C5A4F0E-7B9D-4E0C-9C3A-6B1F2D8E4A11', UserShortName: 'ada', UserLongName: 'Ada Lovelace' };
    expect((await mac.checkIn('TokenUpdate', user)).status).to.equal(200);
    expect((await mac.connect({ status: 'Idle' }, user)).status).to.equal(200);
    const other = newDevice({ productName: 'Mac14,7' });
    other.profile = mac.profile;
    other.useIdentity(mac.identity as NonNullable<typeof mac.identity>);
    expectRefused(await other.checkIn('TokenUpdate', user), 409, 'wrong_step');
    expectRefused(await other.connect({ status: 'Idle' }, user), 403, 'forbidden');
    expect((await record(r.device.id))?.state).to.equal('enrolled');
  });

  it('refusals count as machine refusals', async () => {
    const limited = await system().startDeviceFacingApi({ machineRefusalsPerMinute: 2 });
    const { iphone } = await enrolledIphone();
    const r = await withDevice(limited, STRANGERS, 'ios');
    const stranger = newDevice({ udid: iphone.udid });
    await stranger.openLink(r.device.provisioningUrl);
    await stranger.getIdentity();
    expectRefused(await stranger.checkIn('Authenticate'), 409, 'udid_in_use');
    expectRefused(await stranger.connect({ status: 'Idle' }), 403, 'forbidden');
    const limitedAnswer = await stranger.checkIn('Authenticate');
    expect(limitedAnswer.status).to.equal(429);
  });

  it('answers of NanoMDM relayed as it gave them are not our refusals: they never lock out a device installing from the same address', async () => {
    const limited = await system().startDeviceFacingApi({ machineRefusalsPerMinute: 3 });
    const first = await withDevice(limited, VICTIMS, 'macos');
    const mac = newDevice({ productName: 'Mac14,7' });
    await mac.enrol(first.device.provisioningUrl);
    // A Mac's user channel asking to authenticate a user: NanoMDM, without a handler for it, refuses (410 Gone).
    const user = { UserID: '5E1F0A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B', UserShortName: 'ada', UserLongName: 'Ada Lovelace' };
    for (let attempt = 0; attempt < 5; attempt++) {
      const relayed = await mac.checkIn('UserAuthenticate' as 'TokenUpdate', user);
      expect(relayed.status, relayed.body).to.equal(410);
    }
    const second = await withDevice(limited, VICTIMS, 'ios');
    await newDevice().enrol(second.device.provisioningUrl);
    expect((await record(second.device.id))?.state).to.equal('enrolled');
  });
});
