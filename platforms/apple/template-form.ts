import { inputsOf, type SettingsPart, wifiPart } from '../template-form';

const passcode = inputsOf('passcode');
const restriction = inputsOf('restrictions');

/** An iPhone's, iPad's or Mac's settings (platforms/apple/settings.ts): passcode, Wi-Fi, restrictions. */
export const APPLE_FORM: SettingsPart[] = [
  {
    key: 'passcode',
    legend: 'Passcode',
    when: {
      ticked: {
        name: 'management-passcode',
        label: 'Require a passcode',
        hint: 'The device asks its owner for a passcode that follows these rules.',
      },
    },
    inputs: [
      passcode.whole('minLength', 'Minimum length', 'From 0 to 16 characters.'),
      passcode.flag('requireAlphanumeric', 'Require letters as well as digits', false),
      passcode.flag('allowSimple', 'Allow simple passcodes, such as 1234 or 1111', true),
      passcode.whole(
        'minComplexChars',
        'Minimum number of symbols',
        'From 0 to 4: characters other than letters and digits.',
      ),
      passcode.whole('maxInactivityMinutes', 'Lock after this many minutes unused', 'From 0 to 15.'),
      passcode.whole('maxFailedAttempts', 'Wrong passcodes before the device is erased', 'From 2 to 11.'),
      passcode.whole('maxPasscodeAgeDays', 'Days before the passcode must be changed', 'From 1 to 730.'),
      passcode.whole('pinHistory', 'Earlier passcodes that cannot be used again', 'From 1 to 50.'),
    ],
  },
  wifiPart(
    'wifi',
    'Wi-Fi',
    [
      { value: 'WPA2', text: 'WPA2 (joins WPA2 and WPA3 networks)' },
      { value: 'WPA3', text: 'WPA3 only' },
      { value: 'None', text: 'None (an open network)' },
    ],
    { autoJoin: true },
  ),
  {
    key: 'restrictions',
    legend: 'Restrictions',
    hint: 'iPhones and iPads that their owners enrolled themselves (not supervised) ignore some of these.',
    when: 'any',
    inputs: [
      restriction.flag('allowCamera', 'Allow the camera', true),
      restriction.flag('allowScreenShot', 'Allow screenshots and screen recording', true),
      restriction.flag('allowAppInstallation', 'Allow installing apps', true),
      restriction.flag('allowCloudBackup', 'Allow iCloud backup', true),
      restriction.flag('forceEncryptedBackup', 'Encrypt backups', false),
    ],
  },
];
