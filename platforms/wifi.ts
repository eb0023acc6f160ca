import { z } from 'zod';

/** What every platform's Wi-Fi settings share: the bounds of 802.11 itself. */

export const noControlCharacters = (value: string) => !/\p{Cc}/u.test(value);

// 802.11 bounds an SSID at 32 bytes, not characters: an accented letter takes 2, an emoji 4.
export const ssid = z
  .string()
  .min(1, 'required')
  .refine(
    (value) => Buffer.byteLength(value, 'utf8') <= 32,
    'at most 32 bytes (an accented letter counts 2, an emoji 4)',
  )
  .refine(noControlCharacters, 'no control characters');

// WPA personal passphrase (IEEE 802.11i): 8 to 63 characters from space to tilde.
export const WPA_PASSPHRASE = /^[ -~]{8,63}$/;
export const WPA_PASSPHRASE_RULE = '8 to 63 characters: letters, digits, spaces and ASCII punctuation';
