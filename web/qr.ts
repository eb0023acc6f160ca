import QRCode from 'qrcode';
import { type SafeHtml, trusted } from './html';

/**
 * A QR code as inline SVG: no image request, and crisp at any size. A long text (Android's provisioning JSON, about a
 * kilobyte) takes the lowest error correction, which keeps its modules large enough to scan off a phone's screen.
 */
export async function qrCode(text: string): Promise<SafeHtml> {
  const errorCorrectionLevel = text.length > 300 ? 'L' : 'M';
  return trusted(await QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel }));
}
