import type { Request } from 'express';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** Headers a proxy adds when it passes a request on: their presence means the real client is somewhere else. */
const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
];

/**
 * Whether a request comes from a program on this machine itself: the socket's peer is loopback, and no proxy passed it
 * on (a reverse proxy on the same host makes every request loopback). Any header a client could send only narrows
 * this, never widens it: a remote client cannot make its socket loopback.
 */
export function isFromThisMachine(req: Request): boolean {
  return (
    LOOPBACK.test(req.socket.remoteAddress ?? '') && FORWARDING_HEADERS.every((name) => req.get(name) === undefined)
  );
}
