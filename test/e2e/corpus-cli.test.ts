import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { corpusEntries, readCorpusJson, type CorpusEntry } from '../fixtures/rekor-log/corpus.ts';
import { startTestLog, type TestLog } from '../fixtures/rekor-log/index.ts';
import { corpusDir, describeWithTestData } from '../fixtures/test-data.ts';
import { jsonVerdict, runCli, type JsonOutcome, type JsonVerdict } from '../fixtures/world.ts';

describeWithTestData(import.meta.url, 'the recorded Rekor entries and trust roots (corpus/entries, corpus/trust)', 'the CLI on the recorded entries', () => {
  /**
   * Real production (and staging) Rekor entries of the recorded corpus ($GATE_TEST_DATA/corpus), served as-is by the test log on 127.0.0.1
   * and verified end to end by the bundled CLI against the real trusted roots: no request leaves the machine.
   */

  const PRODUCTION_ROOT = corpusDir('trust', 'trusted_root.production.json');
  const STAGING_ROOT = corpusDir('trust', 'trusted_root.staging.json');
  const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

  const WITH_ATTESTATION = 'intoto-0.0.1__slsa-verifier-container-v1.9.0__521e543bfd8d.with-attestation.json';
  const SUBJECT = 'sha256:5b146084201148bf151871fa779767f013c47706d031106af0d727fb5b88f5ac';
  const ATTESTATION_KINDS = new Set(['intoto 0.0.1', 'intoto 0.0.2', 'dsse 0.0.1']);

  type Body = { kind: string; apiVersion: string; spec: Record<string, unknown> };

  const bodyOf = (e: LogEntryAnon): Body => JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')) as Body;

  function corpusEntry(file: string): CorpusEntry {
    const found = corpusEntries().find((c) => c.file === file);
    if (!found) throw new Error(`no corpus entry ${file}`);
    return found;
  }

  /** The trusted root whose transparency logs include the entry's log ID (production or staging). */
  function trustedRootFor(e: LogEntryAnon): string {
    for (const [file, p] of [['trusted_root.production.json', PRODUCTION_ROOT], ['trusted_root.staging.json', STAGING_ROOT]] as const) {
      const root = readCorpusJson('trust', file) as { tlogs: { logId: { keyId: string } }[] };
      if (root.tlogs.some((t) => Buffer.from(t.logId.keyId, 'base64').toString('hex') === e.logID.toLowerCase())) return p;
    }
    throw new Error(`log ID ${e.logID} is in neither corpus trusted root`);
  }

  /** The first `{algorithm: sha256, value}` in the body's spec: a digest Rekor indexes the entry under. */
  function searchKey(spec: unknown): string | undefined {
    if (spec === null || typeof spec !== 'object') return undefined;
    const o = spec as Record<string, unknown>;
    if (o['algorithm'] === 'sha256' && typeof o['value'] === 'string' && /^[0-9a-f]{64}$/i.test(o['value'])) return `sha256:${o['value'].toLowerCase()}`;
    for (const v of Object.values(o)) {
      const k = searchKey(v);
      if (k) return k;
    }
    return undefined;
  }

  /** The identity (SAN) of the Fulcio certificate in an intoto 0.0.1 body, read with @sigstore/core. */
  function certificateSan(body: Body): string {
    const pem = Buffer.from(String(body.spec['publicKey']), 'base64').toString('utf8');
    const san = X509Certificate.parse(pem).subjectAltName;
    if (!san) throw new Error('the certificate has no SAN');
    return san;
  }

  /** Flips the lowest bit of byte `at` of a base64 value. */
  function flipB64(b64: string, at: number): string {
    const b = Buffer.from(b64, 'base64');
    const i = at < 0 ? b.length + at : at;
    b[i] = (b[i] ?? 0) ^ 0x01;
    return b.toString('base64');
  }

  const logs: TestLog[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-corpus-cli-'));
  afterAll(async () => {
    await Promise.all(logs.map((l) => l.close()));
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh test log serving exactly this entry under `uuid`, indexed under `digests`. */
  async function serve(uuid: string, entry: LogEntryAnon, digests: string[]): Promise<TestLog> {
    const log = await startTestLog();
    logs.push(log);
    log.serveRaw(uuid, entry, digests);
    return log;
  }

  function verifyArgs(log: TestLog, digest: string, root: string): string[] {
    return ['verify', '--image-digest', digest, '--rekor-url', log.url, '--trusted-root', root, '--timeout', '5'];
  }

  type Outcome = JsonOutcome;
  const json = jsonVerdict;

  /** The one candidate of a run (each log here serves one entry). */
  function only(v: JsonVerdict): Outcome {
    expect(v.candidates, JSON.stringify(v)).toHaveLength(1);
    return v.candidates[0] as Outcome;
  }

  describe('a Tekton Chains-shaped intoto 0.0.1 production entry with its attestation (log index 32414261)', () => {
    const real = corpusEntry(WITH_ATTESTATION);
    const body = bodyOf(real.entry);
    const san = certificateSan(body);
    const keyless = ['--certificate-identity', san, '--certificate-oidc-issuer', GITHUB_ISSUER];

    it('the corpus entry is what this test assumes', () => {
      expect(`${body.kind} ${body.apiVersion}`).toBe('intoto 0.0.1');
      expect(real.entry.logIndex).toBe(32414261);
      expect(real.entry.attestation?.data).toBeTruthy();
      expect(san).toMatch(/^https:\/\/github\.com\/slsa-framework\/slsa-github-generator\//);
      expect(trustedRootFor(real.entry)).toBe(PRODUCTION_ROOT);
    });

    it('passes with the certificate identity and issuer, and writes the Tekton results', async () => {
      const log = await serve(real.uuid, real.entry, [SUBJECT]);
      const results = path.join(tmp, 'results-pass');
      const r = await runCli([...verifyArgs(log, SUBJECT, PRODUCTION_ROOT), ...keyless, '--results-dir', results, '--output', 'json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const v = json(r);
      expect(v.verified).toBe(true);
      expect(v.accepted).toMatchObject({ uuid: real.uuid, logIndex: 32414261, kind: 'intoto 0.0.1', status: 'passed', sources: ['rekor-search'], attestationFrom: 'log', signer: san });
      const read = (n: string): string => readFileSync(path.join(results, n), 'utf8');
      expect(read('VERIFIED')).toBe('true');
      expect(read('REKOR_UUID')).toBe(real.uuid);
      expect(read('REKOR_LOG_INDEX')).toBe('32414261');
      expect(read('REKOR_INTEGRATED_TIME')).toBe(String(real.entry.integratedTime));
      expect(read('SIGNER')).toBe(san);
      expect(read('PREDICATE_TYPE')).toBe('https://slsa.dev/provenance/v0.2');
      expect(read('BUILDER_ID')).toBe('https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.9.0');
      expect(read('REKOR_LOG_URL')).toBe(`${log.url}/api/v1/log/entries/${real.uuid}`);
      console.log(`corpus ${WITH_ATTESTATION}: passed via ${v.accepted?.sources.join('+')}, attestation from the ${String(v.accepted?.attestationFrom)}, signer ${san}`);
    });

    it('fails with another identity (CERTIFICATE_IDENTITY)', async () => {
      const log = await serve(real.uuid, real.entry, [SUBJECT]);
      const other = san.replace('@refs/tags/v1.9.0', '@refs/tags/v1.9.1');
      expect(other).not.toBe(san);
      const r = await runCli([...verifyArgs(log, SUBJECT, PRODUCTION_ROOT), '--certificate-identity', other, '--certificate-oidc-issuer', GITHUB_ISSUER, '--output', 'json']);
      expect(r.code).toBe(1);
      expect(only(json(r))).toMatchObject({ status: 'failed', check: 'signer', code: 'CERTIFICATE_IDENTITY' });
    });

    it('fails with another issuer (CERTIFICATE_ISSUER)', async () => {
      const log = await serve(real.uuid, real.entry, [SUBJECT]);
      const r = await runCli([...verifyArgs(log, SUBJECT, PRODUCTION_ROOT), '--certificate-identity', san, '--certificate-oidc-issuer', 'https://accounts.google.com', '--output', 'json']);
      expect(r.code).toBe(1);
      expect(only(json(r))).toMatchObject({ status: 'failed', check: 'signer', code: 'CERTIFICATE_ISSUER' });
    });

    const oneByte: { what: string; change: (e: LogEntryAnon) => LogEntryAnon; check: string; code: string }[] = [
      { what: 'the body (served under the real UUID)', change: (e) => ({ ...e, body: flipB64(e.body, 100) }), check: 'entry', code: 'ENTRY_UUID_MISMATCH' },
      {
        what: 'the SET',
        change: (e) => ({ ...e, verification: { ...e.verification, signedEntryTimestamp: flipB64(e.verification?.signedEntryTimestamp ?? '', -1) } }),
        check: 'log',
        code: 'TLOG_SET',
      },
      {
        what: 'the attestation data',
        change: (e) => ({ ...e, attestation: { data: flipB64(e.attestation?.data ?? '', 500) } }),
        check: 'attestation',
        code: 'ATTESTATION_HASH',
      },
      { what: 'integratedTime', change: (e) => ({ ...e, integratedTime: e.integratedTime + 1 }), check: 'log', code: 'TLOG_SET' },
    ];
    it.each(oneByte)('fails when $what changes by one byte ($code)', async ({ change, check, code }) => {
      const changed = change(structuredClone(real.entry));
      expect(changed).not.toEqual(real.entry);
      const log = await serve(real.uuid, changed, [SUBJECT]);
      const r = await runCli([...verifyArgs(log, SUBJECT, PRODUCTION_ROOT), ...keyless, '--output', 'json']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const v = json(r);
      expect(v.verified).toBe(false);
      expect(only(v)).toMatchObject({ uuid: real.uuid, status: 'failed', check, code });
    });
  });

  describe('every other corpus entry, served and searched', () => {
    const others = corpusEntries().filter((c) => c.file !== WITH_ATTESTATION);

    it('covers the whole corpus', () => {
      expect(others).toHaveLength(17);
    });

    it.each(others.map((c) => ({ file: c.file, c })))('$file', async ({ c }) => {
      const body = bodyOf(c.entry);
      const kind = `${body.kind} ${body.apiVersion}`;
      const digest = searchKey(body.spec);
      if (!digest) throw new Error(`${c.file}: no sha256 in the body to index it under`);
      const root = trustedRootFor(c.entry);
      const log = await serve(c.uuid, c.entry, [digest]);
      // Any identity: the outcome is decided before the signer check (or the entry is skipped).
      const r = await runCli([...verifyArgs(log, digest, root), '--certificate-identity-regexp', '^.*$', '--certificate-oidc-issuer-regexp', '^.*$', '--output', 'json']);
      const v = json(r);
      const o = only(v);
      console.log(
        `corpus ${c.file} (${kind}, log index ${c.entry.logIndex}, ${path.basename(root)}): exit ${r.code}, ${o.status}` +
          `${o.check ? ` at ${o.check}` : ''}${o.code ? ` [${o.code}]` : ''}, via ${o.sources.join('+')}`,
      );
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(v.verified).toBe(false);
      expect(o.uuid).toBe(c.uuid.toLowerCase());
      expect(o.sources).toEqual(['rekor-search']);
      expect(o.logIndex).toBe(c.entry.logIndex);
      if (ATTESTATION_KINDS.has(kind)) {
        // The entry and log checks passed (SET, and proof + checkpoint where present); only the attestation is missing.
        expect(o).toMatchObject({ kind, status: 'failed', check: 'attestation', code: 'ATTESTATION_MISSING' });
        expect(o.reason).toContain('--image-url');
      } else {
        expect(o).toMatchObject({ kind, status: 'skipped' });
      }
    });
  });
});
