// The provenance rules on provenance Tekton Chains itself produced (issue 24's corpus, kept outside the
// repository in ${GATE_CHAINS_CORPUS:-~/.cache/rekor-gate/chains-corpus}/<version>/<format>/<run>.json by
// test/chains). Without the corpus these tests are skipped, saying so.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEEDS_SLSA_TEKTON } from '../../src/policy/provenance/facts.ts';
import { compileProvenanceRules, type ProvenanceRulesDoc, type RuleInput } from '../../src/policy/provenance/rules.ts';

const CORPUS = process.env['GATE_CHAINS_CORPUS'] ?? path.join(os.homedir(), '.cache', 'rekor-gate', 'chains-corpus');
const FORMATS = ['slsa-v1', 'slsa-v2alpha3', 'slsa-v2alpha4'];

type Statement = RuleInput & { predicate: Record<string, any> };
type CorpusDoc = { chainsVersion: string; format: string; run: string; attestations: { image: string; statements: Statement[] }[] };

const versions = existsSync(CORPUS) ? readdirSync(CORPUS).filter((v) => FORMATS.some((f) => existsSync(path.join(CORPUS, v, f)))) : [];
if (versions.length === 0) console.warn(`provenance-corpus: SKIPPED, no Chains corpus in ${CORPUS} (test/chains produces it; see README)`);

function load(version: string, format: string, run: string): CorpusDoc | undefined {
  const f = path.join(CORPUS, version, format, `${run}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CorpusDoc) : undefined;
}

const isPipelineRun = (s: Statement) =>
  s.predicate.buildType === 'tekton.dev/v1/PipelineRun' || (s.predicate.buildDefinition?.resolvedDependencies ?? []).some((d: { name?: string }) => d.name === 'pipeline');

const judge = (doc: ProvenanceRulesDoc, st: Statement) => compileProvenanceRules(doc).flatMap((r) => r.check(st).map((f) => `${r.name}: ${f}`));

// Declared only without the corpus: describe.runIf(false) would still count its skipped test in every run.
if (versions.length === 0) {
  describe('provenance rules on real Chains provenance', () => {
    it.skip(`skipped: no Chains corpus in ${CORPUS} (test/chains produces it)`, () => {});
  });
}

describe.skipIf(versions.length === 0)(`provenance rules on real Chains provenance (${CORPUS})`, () => {
  const cases = versions.flatMap((version) => FORMATS.map((format) => ({ version, format, v02: format === 'slsa-v1' })));

  describe.each(cases)('$version $format: git-clone + buildah PipelineRun', ({ version, format, v02 }) => {
    const doc = load(version, format, 'git-clone-buildah-pipelinerun');
    const st = doc?.attestations.flatMap((a) => a.statements).find(isPipelineRun);
    it.skipIf(!st)('source: acme/app passes, another repository fails naming the material', () => {
      expect(judge({ source: [{ repository: 'https://github.com/acme/app' }] }, st!)).toEqual([]);
      const [f] = judge({ source: [{ repository: 'https://github.com/acme/other' }] }, st!);
      expect(f).toContain('provenance rule source: material git+https://github.com/acme/app.git: not one of the allowed repositories');
      expect(f).toMatch(/\{sha1:[0-9a-f]{40}\}/);
    });

    it.skipIf(!st)('parameters: the run param git-url, required and forbidden', () => {
      expect(judge({ parameters: { required: [{ name: 'git-url', value: 'https://github.com/acme/app.git' }] } }, st!)).toEqual([]);
      expect(judge({ parameters: { forbidden: [{ name: 'git-url', pattern: 'acme/app' }] } }, st!)[0]).toContain('the PipelineRun: param git-url is "https://github.com/acme/app.git", which the policy forbids');
      const tasks = judge({ parameters: { forbidden: [{ name: 'revision', value: 'main', task: 'fetch-source' }] } }, st!).join('\n');
      expect(tasks).toContain(v02 ? `Task 'fetch-source': param revision is "main"` : 'cannot rule out param revision');
    });

    it.skipIf(!st)('trustedTasks: Tasks from the hub resolver are not from a trusted bundle or git repository', () => {
      const got = judge({ trustedTasks: [{ git: 'https://github.com/tektoncd/catalog' }] }, st!).join('\n');
      expect(got).toContain('from https://artifacthub.io/api/v1/packages/tekton-task/tekton-catalog-tasks/git-clone/0.9.0 {sha256:');
      expect(got).toContain(v02 ? "Task 'fetch-source'" : NEEDS_SLSA_TEKTON);
    });

    it.skipIf(!st)('requiredTasks: fetch-source with its commit result (SLSA v0.2); not recorded with the default v1.0 build type', () => {
      const doc2: ProvenanceRulesDoc = { requiredTasks: [{ name: 'fetch-source', result: { name: 'commit', pattern: '^[0-9a-f]{40}$' } }] };
      const wrong: ProvenanceRulesDoc = { requiredTasks: [{ name: 'fetch-source', result: { name: 'commit', value: '0'.repeat(40) } }] };
      if (v02) {
        expect(judge(doc2, st!)).toEqual([]);
        expect(judge(wrong, st!)[0]).toMatch(/Task 'fetch-source': result commit is "[0-9a-f]{40}", expected "0{40}"/);
      } else {
        expect(judge(doc2, st!)[0]).toContain(`no Task named 'fetch-source' ran as far as the provenance tells: ${NEEDS_SLSA_TEKTON}`);
      }
    });
  });

  describe.each(cases)('$version $format: buildah TaskRun (git resolver, revision main)', ({ version, format, v02 }) => {
    const st = load(version, format, 'buildah-taskrun')?.attestations[0]?.statements[0];
    it.skipIf(!st)('trustedTasks: the catalog Task at a branch fails as unpinned (v1.0) or unknown (v0.2); listing its commit passes', () => {
      const loose = judge({ trustedTasks: [{ git: 'https://github.com/tektoncd/catalog', path: 'task/buildah/' }] }, st!);
      expect(loose[0]).toContain(v02 ? 'cannot tell whether its reference was pinned' : 'referenced as git revision main, not pinned by digest or commit');
      const commit = (st!.predicate.invocation?.configSource?.digest?.sha1 ?? st!.predicate.buildDefinition?.resolvedDependencies?.[0]?.digest?.sha1) as string;
      expect(judge({ trustedTasks: [{ git: 'https://github.com/tektoncd/catalog', path: 'task/buildah/', commits: [commit] }] }, st!)).toEqual([]);
      expect(judge({ trustedTasks: [{ git: 'https://github.com/tektoncd/catalog', path: 'task/git-clone/', commits: [commit] }] }, st!)[0]).toContain('is not under task/git-clone/');
    });

    it.skipIf(!st)('parameters: buildah\'s params as the TaskRun had them', () => {
      expect(judge({ parameters: { required: [{ name: 'DOCKERFILE', value: './Containerfile' }] } }, st!)).toEqual([]);
      expect(judge({ parameters: { forbidden: [{ name: 'CONTEXT', value: '.' }] } }, st!)[0]).toContain('the TaskRun: param CONTEXT is "."');
    });
  });
});
