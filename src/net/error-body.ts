// What a peer says in an error response: Rekor's `{code, message}` or OCI's `{errors: [{message}]}`, checked by
// a schema and cut to 500 characters, for the message of the error it becomes.
import { lazyGuard } from '../schema/validator.ts';

const ERROR_BODY_SCHEMA = {
  type: 'object',
  properties: {
    message: { type: 'string' },
    // OCI distribution: {"errors": [{"code", "message"}]}
    errors: { type: 'array', items: { type: 'object', properties: { message: { type: 'string' } } } },
  },
} as const;
type ErrorBody = { message?: string; errors?: Array<{ message?: string }> };
const errorBodyValidator = lazyGuard<ErrorBody>('http.error-body', ERROR_BODY_SCHEMA, { options: { strict: true } });

/** The server's own `message` (Rekor `{code, message}`, OCI `{errors:[{message}]}`) when the body is such JSON. */
export function serverMessage(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!errorBodyValidator(parsed)) return undefined;
  const messages = [parsed.message, ...(parsed.errors ?? []).map((e) => e.message)].filter(
    (m): m is string => typeof m === 'string' && m.length > 0,
  );
  return messages.length > 0 ? messages.join('; ').slice(0, 500) : undefined;
}
