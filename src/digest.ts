import { GateError } from './errors.ts';

/** A validated image digest, parsed once at the edge and passed down as is. */
export type ImageDigest = {
  readonly algorithm: 'sha256';
  /** 64 lower-case hex characters. */
  readonly hex: string;
  /** `sha256:<hex>` */
  readonly value: string;
};

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** `label` names the input in the message (the CLI passes its flag). */
export function parseImageDigest(input: string, label = 'the image digest'): ImageDigest {
  const m = DIGEST_RE.exec(input);
  if (!m) {
    throw new GateError(
      'BAD_DIGEST',
      `${label} "${input.slice(0, 100)}" is not a digest of the form sha256:<64 lower-case hex>`,
    );
  }
  const hex = m[1] as string;
  return { algorithm: 'sha256', hex, value: `sha256:${hex}` };
}
