import helmet from 'helmet';

/**
 * Headers on every response, pages and JSON alike (helmet): only our own styles, script and images, forms only to us,
 * never framed, no MIME sniffing, no referrer (pages and their addresses carry codes, tokens and provisioning links).
 * HSTS only when the public address is https: announcing it over plain http would mean nothing, and on localhost it
 * would pin the browser to https for every port.
 */
export function securityHeaders(publicUrl: string) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: publicUrl.startsWith('https:') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
}
