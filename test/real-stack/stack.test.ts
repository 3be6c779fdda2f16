import { expect, it } from 'vitest';
import { startRekorV1 } from './rekor-v1.ts';
import { startRekorV2 } from './rekor-v2.ts';
import { describeWithTools, useStack } from './suite.ts';

/** The harness itself: each real log starts on loopback, answers, and gives its key. */
describeWithTools(['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server'])('real Rekor v1 (rekor-server on Trillian and MariaDB)', () => {
  const rekor = useStack(startRekorV1);
  it('serves its log info and public key', async () => {
    expect(rekor().publicKeyPem).toMatch(/BEGIN PUBLIC KEY/);
    const r = await fetch(`${rekor().url}/api/v1/log`);
    expect(r.status).toBe(200);
    const info = (await r.json()) as { treeSize: number; treeID: string; signedTreeHead: string };
    expect(info.treeSize).toBe(0);
    expect(info.signedTreeHead).toMatch(/^127\.0\.0\.1 - \d+\n/);
  });
});

describeWithTools(['rekor-tiles'])('real Rekor v2 (rekor-tiles POSIX) with a static file server', () => {
  const rekor = useStack(startRekorV2);
  it('publishes a checkpoint read through the file server', async () => {
    let text = '';
    for (let i = 0; i < 50 && !text.startsWith(rekor().origin); i++) {
      const r = await fetch(`${rekor().readUrl}/checkpoint`);
      text = r.status === 200 ? await r.text() : '';
      if (!text) await new Promise((res) => setTimeout(res, 200));
    }
    expect(text.split('\n')[0]).toBe(rekor().origin);
    expect((await fetch(`${rekor().readUrl}/../etc/passwd`)).status).toBe(404);
  });
});

