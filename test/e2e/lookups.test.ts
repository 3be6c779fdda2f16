import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

const logFlags = (w: World) => ['--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath, '--timeout', '5'];

describe('lookups by log index and entry URL', () => {
  it('verifies exactly the entry at a global log index, including its subject', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--log-index', String(a.logIndex), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.uuid).toBe(a.uuid);
    expect(out.accepted.sources).toEqual(['log-index']);
    // the global index, not the shard-local one of the proof
    expect(a.logIndex).toBeGreaterThanOrEqual(w.log.shardOffset);
  });

  it('rejects the entry at a log index whose subject is another image', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(randomDigest().value));
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--log-index', String(a.logIndex)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('SUBJECT_MISMATCH');
  });

  it('takes the entry URL Tekton Chains writes in chains.tekton.dev/transparency', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const url = `${w.log.url}/api/v1/log/entries?logIndex=${a.logIndex}`;
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--entry-url', url, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.sources).toEqual(['entry-url']);
  });

  it('refuses an entry URL on a host that is neither --rekor-url nor a trusted log (exit 2)', async () => {
    const d = randomDigest();
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--entry-url', 'http://127.0.0.2:9/api/v1/log/entries?logIndex=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('neither --rekor-url');
  });
});

describe('search and get (read-only, for debugging a failed gate)', () => {
  it('search lists each entry under the digest with its log-level status', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const r = await runCli(['search', '--image-digest', d.value, ...logFlags(w), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toHaveLength(1);
    expect(list[0].uuid).toBe(a.uuid);
    expect(list[0].kind).toBe('intoto 0.0.1');
    expect(list[0].log).toMatch(/^verified/);
    expect(list[0].predicateType).toBe('https://slsa.dev/provenance/v0.2');
    expect(list[0].subjects[0]).toContain(d.hex);
    expect(list[0].signers[0]).toBe(`key sha256:${w.signer.fingerprint}`);
  });

  it('get shows one entry by UUID and by log index, and a failed log check', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const byUuid = await runCli(['get', '--uuid', a.uuid, ...logFlags(w)]);
    expect(byUuid.code, byUuid.stderr).toBe(0);
    expect(byUuid.stdout).toContain(`log index:   ${a.logIndex}`);
    w.log.faults.flipProofHash = true;
    try {
      const byIndex = await runCli(['get', '--log-index', String(a.logIndex), ...logFlags(w), '--output', 'json']);
      expect(byIndex.code).toBe(0);
      expect(JSON.parse(byIndex.stdout)[0].log).toMatch(/^FAILED \[TLOG_INCLUSION_PROOF\]/);
    } finally {
      w.log.faults.flipProofHash = false;
    }
  });

  it('get needs --uuid or --log-index (exit 2)', async () => {
    const r = await runCli(['get', ...logFlags(w)]);
    expect(r.code).toBe(2);
  });
});
