import QRCode from 'qrcode';
import { type SafeHtml, trusted } from './html';

/** A QR code of a link as inline SVG: no image request, and crisp at any size. */
export async function qrCode(url: string): Promise<SafeHtml> {
  return trusted(await QRCode.toString(url, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }));
}
