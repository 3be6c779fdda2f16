// The loopback rule: plain HTTP is allowed only to a loopback host (as container tools treat them as insecure
// registries); HTTPS everywhere else.
import { isIP } from 'node:net';

/** Loopback as container tools see it: `localhost`, 127.0.0.0/8, ::1 (and ::ffff:127.x.x.x). */
export function isLoopbackHostname(hostname: string): boolean {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || /^0{0,4}(?::0{0,4}){6}:0{0,3}1$/.test(h)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && (mapped[1] as string).startsWith('127.');
  }
  return false;
}
