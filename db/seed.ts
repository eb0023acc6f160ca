import { UniqueConstraintError } from 'sequelize';
import type { Database } from '.';

export const DEMO_ORGANISATION = 'demo';

/**
 * On an empty database (embedded default), one clearly named demo organisation with an account template and a
 * device template per platform, so the flow works out of the box. Does nothing once any organisation exists.
 */
export async function seedDemoIfEmpty(db: Database): Promise<boolean> {
  try {
    return await seed(db);
  } catch (error) {
    // Another process seeded the same empty database at the same moment.
    if (error instanceof UniqueConstraintError) return false;
    throw error;
  }
}

function seed({ sequelize, models }: Database): Promise<boolean> {
  return sequelize.transaction(async (transaction) => {
    if ((await models.Organisation.count({ transaction })) > 0) return false;
    const organisation = await models.Organisation.create(
      { slug: DEMO_ORGANISATION, name: 'Demo Organisation (sample data)', enabled: false, emailRequirement: null },
      { transaction },
    );
    const account = await models.AccountTemplate.create(
      {
        organisationId: organisation.id,
        name: 'Demo: self-registered user',
        locale: 'en-GB',
        timeZone: 'Europe/London',
        role: 'device-owner',
        groups: ['self-registered'],
        validityDays: 365,
        attributes: { source: 'self-service' },
      },
      { transaction },
    );
    await organisation.update(
      {
        enabled: true,
        accountTemplateId: account.id,
        // A placeholder for the organisation's own MDM (Intune, Fleet…), where Windows PCs enrol.
        windowsMdmDiscoveryUrl: 'https://enterpriseenrollment.demo.example/EnrollmentServer/Discovery.svc',
      },
      { transaction },
    );
    const platformTemplates = [
      // Typed templates: the Android device policy app and Apple's MDM apply them (platforms/settings.ts). The demo's
      // app is Google's sample DPC, TestDPC, from Google Play; its checksum matters only for company-owned devices.
      {
        platform: 'android',
        name: 'Demo: Android work profile',
        management: {
          dpc: {
            componentName: 'com.afwsamples.testdpc/.DeviceAdminReceiver',
            packageDownloadUrl: 'https://play.google.com/store/apps/details?id=com.afwsamples.testdpc',
            signatureChecksum: 'sample-checksum-of-the-dpc-signing-cert-000',
          },
          ownership: 'personal',
          password: { quality: 'numeric', minLength: 6 },
          apps: ['com.google.android.gm'],
        },
      },
      {
        platform: 'ios',
        name: 'Demo: iPhone and iPad',
        management: { passcode: { minLength: 6 }, restrictions: { allowCloudBackup: false } },
      },
      { platform: 'macos', name: 'Demo: Mac', management: { passcode: { minLength: 8, requireAlphanumeric: true } } },
      { platform: 'windows', name: 'Demo: Windows PC', management: { bitLocker: true } },
    ] as const;
    for (const { platform, name, management } of platformTemplates) {
      const template = await models.DeviceTemplate.create(
        {
          organisationId: organisation.id,
          name,
          platform,
          groups: ['self-service-devices'],
          description: `${name} (sample template)`,
          management,
        },
        { transaction },
      );
      await models.OrganisationDeviceTemplate.create(
        { organisationId: organisation.id, platform, deviceTemplateId: template.id },
        { transaction },
      );
    }
    await models.SystemSettings.create(
      {
        deviceSetupEnabled: true,
        defaultOrganisationId: organisation.id,
        platforms: { android: { useSmsInstallationCode: true } },
      },
      { transaction },
    );
    return true;
  });
}
