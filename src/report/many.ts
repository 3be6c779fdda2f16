import { jsonText, printable } from '../text.ts';
import type { ManyVerdict } from '../verify/types.ts';
import { renderText } from './render.ts';

/** An index and its platforms, or a list of images. */
const noun = (m: ManyVerdict): string => (m.images.some((i) => i.label !== undefined) ? 'parts of the index' : 'images');

/** The summary line, then each image's own report (an image that could not be checked: its error). */
export function renderManyText(m: ManyVerdict): string {
  const head = m.verified
    ? `VERIFIED all ${m.total} ${noun(m)}`
    : `NOT VERIFIED: ${m.passed} of ${m.total} ${noun(m)} verified, ${m.failed} failed, ${m.unreachable} could not be checked`;
  const parts = m.images.map((i) => {
    const label = i.label !== undefined ? `${printable(i.label)}: ${i.status === 'verified' ? 'passed' : i.status}\n` : '';
    const body = 'verdict' in i ? renderText(i.verdict) : `${printable(`${i.status === 'unreachable' ? 'UNREACHABLE' : 'NOT VERIFIED'} ${i.imageDigest || '-'} (${i.imageUrl}): [${i.code}] ${i.reason}`)}\n`;
    return label + body;
  });
  return `${head}\n\n${parts.join('\n')}`;
}

/** One JSON document: the summary and every image's whole verdict. */
export function renderManyJson(m: ManyVerdict, version: string): string {
  return `${jsonText({ tool: 'rekor-gate', version, ...m })}\n`;
}
