import type { Choice } from '../../web/views/form';
import { inputsOf, type SettingsPart, wifiPart } from '../template-form';

const ANDROID_SECURITY: Choice[] = [
  { value: 'WPA', text: 'WPA or WPA2' },
  { value: 'WEP', text: 'WEP' },
  { value: 'NONE', text: 'None (an open network)' },
];
const dpc = inputsOf('dpc');
const android = inputsOf();
const screenLock = inputsOf('password');

/** An Android device's settings (platforms/android/settings.ts): its device policy app, ownership, Wi-Fi, screen lock, apps. */
export const ANDROID_FORM: SettingsPart[] = [
  {
    key: 'dpc',
    legend: 'Device policy app (DPC)',
    hint: 'The app from your organisation’s EMM that manages the devices.',
    when: 'always',
    inputs: [
      dpc.text('componentName', 'Component name', {
        hint: 'Its device admin receiver, as package/class: such as com.example.dpc/.AdminReceiver.',
      }),
      dpc.text('packageDownloadUrl', 'Download address', {
        type: 'url',
        hint: 'Where a new device downloads the app (APK): an https address.',
      }),
      dpc.text('signatureChecksum', 'Signature checksum', {
        hint: 'The SHA-256 of the app’s signing certificate in URL-safe base64: 43 characters, no “=”.',
      }),
    ],
  },
  {
    when: 'always',
    inputs: [
      android.choice('ownership', 'Who owns the devices', [
        { value: 'company', text: 'The organisation: fully managed, set up with a QR code' },
        { value: 'personal', text: 'Their owners: a work profile on their own device' },
      ]),
    ],
  },
  wifiPart('setupWifi', 'Set-up Wi-Fi', ANDROID_SECURITY, {
    hint: 'Company-owned devices only: the network the set-up wizard joins to download the app. It travels in the QR code.',
  }),
  {
    key: 'password',
    legend: 'Screen lock',
    when: { filled: 'quality' },
    inputs: [
      screenLock.choice('quality', 'Screen lock required', [
        { value: '', text: 'No rule' },
        { value: 'something', text: 'Any screen lock' },
        { value: 'numeric', text: 'Numeric (a PIN)' },
        { value: 'numeric-complex', text: 'Numeric, without repeated or ordered digits' },
        { value: 'alphabetic', text: 'Letters' },
        { value: 'alphanumeric', text: 'Letters and digits' },
        { value: 'complex', text: 'Letters, digits and symbols' },
      ]),
      screenLock.whole('minLength', 'Minimum length', 'From 4 to 16; for numeric locks or stronger.'),
    ],
  },
  wifiPart('wifi', 'Wi-Fi', ANDROID_SECURITY, { hint: 'The network the app sets up once the device is enrolled.' }),
  {
    when: 'always',
    inputs: [android.lines('apps', 'Apps to install', 'Package names, one a line, such as com.example.mail.')],
  },
];
