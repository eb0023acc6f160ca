import { z } from 'zod';
import { PLATFORMS } from '../domain/platform';
import { mdmEventBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../platforms/external-mdm/events';
import {
  checkInBody,
  createRegistrationBody,
  deviceBody,
  passwordResetBody,
  passwordResetConfirmBody,
  phoneBody,
  phoneCodeBody,
  profileBody,
  signInBody,
  verifyBody,
} from '../services/schemas';
import { STEPS } from '../workflows/registration/messages';
import {
  accountTemplateBody,
  deviceSetupBody,
  deviceTemplateBody,
  managerBody,
  organisationBody,
  platformSettings,
  systemSettingsBody,
} from './settings-schemas';

/**
 * The OpenAPI 3.1 document of every JSON endpoint. Request bodies are generated from the very zod schemas that validate
 * requests, so the document cannot drift from the code; responses are described here and tests check real responses
 * against them.
 */

const platform = z.enum(PLATFORMS);
const timestamp = z.string().describe('ISO 8601 date-time');
const error = z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) });
const step = z.strictObject({ step: z.enum(STEPS) });
const smsState = z.enum(['code-sent', 'link-sent']);
const provisioningLink = z.strictObject({
  id: z.string(),
  platform,
  provisioningUrl: z.string(),
  instructions: z.array(z.string()),
  expiresAt: timestamp,
  start: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('apple-profile') }),
      z.strictObject({ kind: z.literal('windows'), url: z.string().describe('ms-device-enrollment: deep link') }),
      z.strictObject({
        kind: z.literal('android-qr'),
        qrPayload: z.string().describe("the JSON Android's set-up wizard reads from the QR code"),
      }),
      z.strictObject({ kind: z.literal('android-app'), url: z.string().describe('intent URL opening the DPC') }),
    ])
    .optional()
    .describe("How the device starts enrolling; absent while the organisation's settings for it are missing."),
  sms: smsState
    .optional()
    .describe(
      'A platform whose link goes by SMS (Android): code-sent when the number is not proven for the account yet (a code went to it; send it to …/phone and the link follows), link-sent when the link went.',
    ),
});
const smsProven = z.strictObject({ sms: z.literal('link-sent') });
const systemSettings = z.strictObject({
  deviceSetupEnabled: z.boolean(),
  defaultOrganisation: z.string().nullable(),
  platforms: platformSettings,
});
const organisation = z.strictObject({ slug: z.string(), name: z.string() });
const deviceSetup = z.strictObject({
  enabled: z.boolean(),
  emailRequirement: z.string().nullable(),
  accountTemplate: z.number().int().nullable(),
  deviceTemplates: z.partialRecord(platform, z.number().int()),
  maxDevicesPerOwner: z.number().int(),
  windowsMdmDiscoveryUrl: z.string().nullable(),
});
const accountTemplate = accountTemplateBody.extend({ id: z.number().int(), validityDays: z.number().int().nullable() });
const deviceTemplate = deviceTemplateBody.extend({ id: z.number().int() });
const jsonPayloads = z.strictObject({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })),
});

type Schema = z.ZodType;
interface Operation {
  summary: string;
  auth?: 'registration' | 'owner' | 'api';
  body?: Schema;
  /** Request headers the operation needs (besides authentication). */
  headers?: Array<{ name: string; description: string }>;
  /** The body is read whatever its content type (the MDMs' signed events, the codec's protocol); else 415 without JSON's. */
  anyContentType?: true;
  responses: Record<number, Schema | null>;
}

const settingsStatus = z.enum(['pending', 'applied', 'failed']);
const ownedDevice = z.strictObject({
  id: z.string(),
  platform,
  name: z.string(),
  state: z.enum(['link-issued', 'enrolled', 'link-expired', 'removed', 'unenrolled']),
  enrolledAt: timestamp.optional(),
  linkExpiresAt: timestamp.optional(),
  removedAt: timestamp.optional(),
  unenrolledAt: timestamp.optional().describe('An MDM-managed device that checked out: its profile was removed on it.'),
  settings: z
    .strictObject({ status: settingsStatus, error: z.string().optional() })
    .optional()
    .describe(
      "MDM-managed devices: whether the device template's settings are on the device; error is the device's reason.",
    ),
});
const ownerErrors = { 400: error, 401: error, 404: error, 409: error, 410: error, 429: error };
const adminErrors = { 400: error, 401: error, 403: error, 404: error, 409: error };

const PATHS: Record<string, Partial<Record<'get' | 'post' | 'put' | 'delete', Operation>>> = {
  '/api/setup/registrations': {
    post: {
      summary: 'Start a registration, or resume the open one of the same address',
      body: createRegistrationBody,
      responses: {
        201: z.strictObject({
          registrationId: z.string(),
          token: z.string(),
          step: z.enum(STEPS),
          organisation: z.string(),
        }),
        403: error,
        ...ownerErrors,
      },
    },
  },
  '/api/setup/registrations/{id}': {
    get: {
      summary: "The registration's step, offered platforms and devices",
      auth: 'registration',
      responses: {
        200: z.strictObject({
          registrationId: z.string(),
          step: z.enum(STEPS),
          organisation: z.string(),
          email: z.string(),
          platforms: z.array(platform),
          devices: z.array(z.strictObject({ id: z.string(), platform, state: z.string(), expiresAt: timestamp })),
        }),
        ...ownerErrors,
      },
    },
  },
  '/api/setup/registrations/{id}/verify': {
    post: {
      summary: 'Verify the e-mail address with the code',
      auth: 'registration',
      body: verifyBody,
      responses: { 200: step, ...ownerErrors },
    },
  },
  '/api/setup/registrations/{id}/resend': {
    post: { summary: 'Send a new code (rate limited)', auth: 'registration', responses: { 202: step, ...ownerErrors } },
  },
  '/api/setup/registrations/{id}/profile': {
    post: {
      summary: 'Basic information; the account is made from the account template',
      auth: 'registration',
      body: profileBody,
      responses: { 200: step, 403: error, ...ownerErrors },
    },
  },
  '/api/setup/registrations/{id}/devices': {
    post: {
      summary: 'Choose a device type; the device is made from its template and a provisioning link issued',
      auth: 'registration',
      body: deviceBody,
      responses: { 201: z.strictObject({ device: provisioningLink }), ...ownerErrors },
    },
  },
  '/api/setup/registrations/{id}/phone': {
    post: {
      summary:
        'Prove the phone number of the device being set up with the code sent to it by SMS; the link then goes there by SMS',
      auth: 'registration',
      body: phoneCodeBody,
      responses: { 200: smsProven, ...ownerErrors },
    },
  },
  '/api/provision/{token}/checkin': {
    post: {
      summary:
        "An Android device policy app's first check-in: records the device's identifiers, enrols it, spends the link, and answers with the settings it applies",
      body: checkInBody,
      responses: {
        200: z.strictObject({
          deviceId: z.string(),
          state: z.literal('enrolled'),
          settings: z
            .strictObject({
              password: z.record(z.string(), z.unknown()).optional(),
              wifi: z.record(z.string(), z.unknown()).optional(),
              apps: z.array(z.string()),
            })
            .optional()
            .describe(
              "The device template's settings: the screen lock, Wi-Fi (its password in clear) and apps to install",
            ),
        }),
        400: error,
        404: error,
        409: error,
        410: error,
        429: error,
      },
    },
  },
  '/api/session': {
    post: {
      summary:
        'Sign a returning device owner in. Failed attempts are limited per account and per client address, or, with ' +
        'the deviceToken of an earlier sign-in to this account, per device token (past its limit it is locked out)',
      body: signInBody,
      responses: {
        200: z.strictObject({
          token: z.string(),
          expiresAt: timestamp,
          deviceToken: z
            .string()
            .describe('Send it with the next sign-in to this account; it replaces the one sent with this one'),
          deviceTokenExpiresAt: timestamp,
        }),
        ...ownerErrors,
      },
    },
    delete: { summary: 'Sign out: the session token is dead', auth: 'owner', responses: { 204: null, 401: error } },
  },
  '/api/me': {
    get: {
      summary: 'The signed-in owner and every device of theirs, removed ones included',
      auth: 'owner',
      responses: {
        200: z.strictObject({
          email: z.string(),
          organisation: z.string(),
          firstName: z.string(),
          lastName: z.string(),
          devices: z.array(ownedDevice),
        }),
        401: error,
      },
    },
  },
  '/api/me/devices': {
    post: {
      summary:
        'Add a device: made from the platform template, a provisioning link issued (limits maxDevicesPerOwner, devices a day, changes a minute, SMS a day)',
      auth: 'owner',
      body: deviceBody,
      responses: { 201: z.strictObject({ device: provisioningLink }), 403: error, ...ownerErrors },
    },
  },
  '/api/me/devices/{id}/link': {
    post: {
      summary: 'A new provisioning link for a device whose link expired (the old one stays dead)',
      auth: 'owner',
      body: phoneBody,
      responses: { 201: z.strictObject({ device: provisioningLink }), 403: error, ...ownerErrors },
    },
  },
  '/api/me/devices/{id}/phone': {
    post: {
      summary:
        'Prove the phone number of a device whose link is live with the code sent to it by SMS; the link then goes there by SMS',
      auth: 'owner',
      body: phoneCodeBody,
      responses: { 200: smsProven, ...ownerErrors },
    },
  },
  '/api/me/devices/{id}': {
    delete: {
      summary: 'Remove a device: its link stops working at once and its workflow ends',
      auth: 'owner',
      responses: { 204: null, ...ownerErrors },
    },
  },
  '/api/password-resets': {
    post: {
      summary: 'Ask for a password-reset code by e-mail (202 whether or not the address has an account)',
      body: passwordResetBody,
      responses: { 202: null, ...ownerErrors },
    },
  },
  '/api/password-resets/confirm': {
    post: {
      summary: 'Set a new password with the code; every session of the owner ends',
      body: passwordResetConfirmBody,
      responses: { 204: null, ...ownerErrors },
    },
  },
  '/api/settings/system': {
    get: {
      summary: 'System-wide settings (supervisor)',
      auth: 'api',
      responses: { 200: systemSettings, ...adminErrors },
    },
    put: {
      summary: 'Replace the system-wide settings (supervisor)',
      auth: 'api',
      body: systemSettingsBody,
      responses: { 200: systemSettings, ...adminErrors },
    },
  },
  '/api/organisations': {
    get: {
      summary: 'All organisations (supervisor)',
      auth: 'api',
      responses: { 200: z.strictObject({ organisations: z.array(organisation) }), ...adminErrors },
    },
    post: {
      summary: 'Create an organisation (supervisor)',
      auth: 'api',
      body: organisationBody,
      responses: { 201: organisation, ...adminErrors },
    },
  },
  '/api/organisations/{slug}/managers': {
    get: {
      summary: "The organisation's manager tokens (supervisor)",
      auth: 'api',
      responses: {
        200: z.strictObject({
          managers: z.array(
            z.strictObject({
              id: z.number().int(),
              label: z.string(),
              createdAt: timestamp,
              revokedAt: timestamp.nullable(),
            }),
          ),
        }),
        ...adminErrors,
      },
    },
    post: {
      summary: 'Issue a manager token, shown once (supervisor)',
      auth: 'api',
      body: managerBody,
      responses: {
        201: z.strictObject({ id: z.number().int(), token: z.string(), organisation: z.string() }),
        ...adminErrors,
      },
    },
  },
  '/api/tokens/{id}': {
    delete: { summary: 'Revoke a token (supervisor)', auth: 'api', responses: { 204: null, ...adminErrors } },
  },
  '/api/organisations/{slug}/device-setup': {
    get: {
      summary: "The organisation's device-setup configuration",
      auth: 'api',
      responses: { 200: deviceSetup, ...adminErrors },
    },
    put: {
      summary: "Replace the organisation's device-setup configuration",
      auth: 'api',
      body: deviceSetupBody,
      responses: { 200: deviceSetup, ...adminErrors },
    },
  },
  '/api/organisations/{slug}/account-templates': {
    get: {
      summary: 'Account templates',
      auth: 'api',
      responses: { 200: z.strictObject({ accountTemplates: z.array(accountTemplate) }), ...adminErrors },
    },
    post: {
      summary: 'Create an account template',
      auth: 'api',
      body: accountTemplateBody,
      responses: { 201: accountTemplate, ...adminErrors },
    },
  },
  '/api/organisations/{slug}/account-templates/{id}': {
    get: { summary: 'An account template', auth: 'api', responses: { 200: accountTemplate, ...adminErrors } },
    put: {
      summary: 'Replace an account template (accounts made from it keep their copies)',
      auth: 'api',
      body: accountTemplateBody,
      responses: { 200: accountTemplate, ...adminErrors },
    },
    delete: { summary: 'Delete an account template not in use', auth: 'api', responses: { 204: null, ...adminErrors } },
  },
  '/api/organisations/{slug}/device-templates': {
    get: {
      summary: 'Device templates',
      auth: 'api',
      responses: { 200: z.strictObject({ deviceTemplates: z.array(deviceTemplate) }), ...adminErrors },
    },
    post: {
      summary: 'Create a device template',
      auth: 'api',
      body: deviceTemplateBody,
      responses: { 201: deviceTemplate, ...adminErrors },
    },
  },
  '/api/organisations/{slug}/device-templates/{id}': {
    get: { summary: 'A device template', auth: 'api', responses: { 200: deviceTemplate, ...adminErrors } },
    put: {
      summary: 'Replace a device template (devices made from it keep their copies)',
      auth: 'api',
      body: deviceTemplateBody,
      responses: { 200: deviceTemplate, ...adminErrors },
    },
    delete: { summary: 'Delete a device template not in use', auth: 'api', responses: { 204: null, ...adminErrors } },
  },
  '/api/organisations/{slug}/registrations': {
    get: {
      summary: "The organisation's registrations, with their step as Temporal has it",
      auth: 'api',
      responses: {
        200: z.strictObject({
          registrations: z.array(
            z.strictObject({
              registrationId: z.string(),
              email: z.string().nullable(),
              step: z.string().nullable(),
              status: z.string(),
              startedAt: timestamp,
            }),
          ),
        }),
        ...adminErrors,
      },
    },
  },
  '/api/organisations/{slug}/devices': {
    get: {
      summary: "The organisation's devices",
      auth: 'api',
      responses: {
        200: z.strictObject({
          devices: z.array(
            z.strictObject({
              id: z.string(),
              platform,
              name: z.string(),
              state: z.string(),
              owner: z.string().nullable(),
              enrolledAt: timestamp.nullable(),
              linkExpiresAt: timestamp,
              unenrolledAt: timestamp.nullable(),
              deviceInfo: z.record(z.string(), z.unknown()).nullable(),
              settings: z
                .strictObject({
                  status: settingsStatus,
                  errorChain: z.array(z.unknown()).nullable(),
                  error: z.string().nullable(),
                })
                .nullable(),
            }),
          ),
        }),
        ...adminErrors,
      },
    },
  },
  '/api/organisations/{slug}/mdm-webhook-secret': {
    get: {
      summary: "Whether the organisation's MDM webhook secret is set, and since when (never the secret)",
      auth: 'api',
      responses: {
        200: z.strictObject({ configured: z.boolean(), createdAt: timestamp.nullable() }),
        ...adminErrors,
      },
    },
    post: {
      summary: 'A new MDM webhook secret, shown once; it replaces the previous one at once (rotation)',
      auth: 'api',
      responses: { 201: z.strictObject({ secret: z.string(), createdAt: timestamp }), ...adminErrors },
    },
  },
  '/api/mdm/events': {
    post: {
      summary: "An organisation's MDM reports a device enrolled or unenrolled, signed with the organisation's secret",
      body: mdmEventBody,
      anyContentType: true,
      headers: [
        { name: TIMESTAMP_HEADER, description: 'Unix time in seconds; at most 5 minutes off' },
        {
          name: SIGNATURE_HEADER,
          description: 'sha256=<hex HMAC-SHA-256 of "<timestamp>.<raw body>", keyed with the whole secret>',
        },
      ],
      responses: {
        200: z.strictObject({ deviceId: z.string(), state: z.enum(['enrolled', 'unenrolled', 'removed']) }),
        400: error,
        401: error,
        404: error,
        409: error,
        410: error,
        413: error,
        429: error,
      },
    },
  },
  '/codec/decode': {
    post: {
      summary: 'Decode Temporal payloads for operators (codec-server protocol)',
      auth: 'api',
      body: jsonPayloads,
      anyContentType: true,
      responses: { 200: jsonPayloads, 400: error, 401: error },
    },
  },
  '/codec/encode': {
    post: {
      summary: 'Encode Temporal payloads (codec-server protocol)',
      auth: 'api',
      body: jsonPayloads,
      anyContentType: true,
      responses: { 200: jsonPayloads, 400: error, 401: error },
    },
  },
  '/healthz': {
    get: {
      summary: 'Database and Temporal reachable',
      responses: { 200: z.strictObject({ status: z.literal('ok') }) },
    },
  },
};

const jsonSchema = (schema: Schema, io: 'input' | 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

function parameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

export function openApiDocument(publicUrl: string) {
  const paths = Object.fromEntries(
    Object.entries(PATHS).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, op]) => [
          method,
          {
            summary: op.summary,
            parameters: [
              ...parameters(path),
              ...(op.headers ?? []).map(({ name, description }) => ({
                name,
                in: 'header',
                required: true,
                description,
                schema: { type: 'string' },
              })),
            ],
            security: op.auth === undefined ? [] : [{ [`${op.auth}Token`]: [] }],
            ...(op.body && {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(op.body, 'input') } },
              },
            }),
            responses: Object.fromEntries(
              Object.entries({ ...op.responses, ...(op.body && !op.anyContentType && { 415: error }) }).map(
                ([status, schema]) => [
                  status,
                  schema
                    ? {
                        description: status.startsWith('2') ? 'Success' : 'Error',
                        content: { 'application/json': { schema: jsonSchema(schema, 'output') } },
                      }
                    : { description: 'No content' },
                ],
              ),
            ),
          },
        ]),
      ),
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Self-Service Setup API',
      version: '1.0.0',
      description:
        'Device owners register and provision devices; supervisors and managers configure it. Errors: {"error": {"code", "message"}}.',
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        registrationToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The token returned when the registration was created',
        },
        ownerToken: {
          type: 'http',
          scheme: 'bearer',
          description: "A device owner's session token (POST /api/session)",
        },
        apiToken: { type: 'http', scheme: 'bearer', description: 'A supervisor or organisation-manager token' },
      },
    },
    paths,
  };
}
