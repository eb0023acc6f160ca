import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/**
 * The text of the QR code in a PNG, as a phone's scanner would read it (jsQR decodes byte-mode data as UTF-8). Throws
 * when the image holds no readable code, so a test fails on the decoding rather than on a comparison with undefined.
 */
export function decodeQrPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const code = jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
    image.width,
    image.height,
  );
  if (!code) throw new Error(`no QR code found in the ${image.width}×${image.height} image`);
  return code.data;
}
