// npm run mutants [-- <src file>|<src file:line>... | --list]: every rejection a candidate check makes, disabled in turn, must
// make some test fail. Not part of npm test (it runs tests once per mutant).
//
// A mutant is one `new GateError(` in src/verify, src/key, src/trust, src/vsa (and src/signature when it exists):
// - `throw new GateError(` becomes `void new GateError(`: the check runs on and does not reject;
// - an error made, not thrown (a failed candidate, an error sorted by kind), loses the nearest `if (` above it
//   (`if (0) if (`): the condition that picks that outcome never holds. A site with no condition of its own
//   (a function's last, default answer) gets no mutant and is listed so.
// Each mutant is made in a copy of the tree (git's files, node_modules linked), never in the worktree, and
// judged by vitest with --bail=1 over
//   1. the test files that import the mutated module (transitively, through fixtures too), those naming the
//      error's code first (a short run that usually kills it), then, if all pass,
//   2. the other test files that name the error's code or quote four words of its message (the end-to-end
//      files, which spawn the bundle: vitest's globalSetup, test/setup/build.ts, rebuilds dist/ from the mutated
//      copy before they run), then
//   3. every other file that spawns the bundle (the CLI, the step runner), which no import names.
// A mutant is killed when a test fails; it survives when every set passes (or is empty). Finally every test file
// that killed a mutant is run once unmutated: it must pass, or its kills mean nothing.
//
// Why not Stryker (@stryker-mutator/core with its vitest runner): it mutates every operator of the in-process
// sources, thousands of mutants where this wants the one disabled rejection per check; and half the checks are
// proven by end-to-end tests that spawn dist/rekor-gate.js, an esbuild bundle Stryker's instrumented sources never
// reach (its mutant switching lives in the transpiled modules vitest loads, not in a bundle built beside them),
// so those kills would read as survivors unless every mutant rebuilt the bundle, which Stryker cannot be told to do.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOMS = ['src/verify', 'src/key', 'src/trust', 'src/vsa', 'src/signature'];
const RUN_TIMEOUT_MS = 6 * 60_000;

type Mutant = {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly code: string;
  /** Runs of four words of the error's message (its literal text), by which a test that quotes it is found. */
  readonly phrases: readonly string[];
  /** The mutated file's text, or undefined when the site has no condition of its own to disable. */
  readonly text: string | undefined;
  readonly how: string;
};

type Result = Mutant & {
  status: 'killed' | 'survived' | 'no mutant' | 'timeout';
  by?: string;
  tier?: 1 | 2 | 3;
  ran: number;
};

const git = (...args: string[]): string => {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

/** Every GateError site of a source file, as a mutant. */
function mutantsOf(file: string): Mutant[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const out: Mutant[] = [];
  const usedIfs = new Set<number>();
  for (const m of text.matchAll(/new GateError\(\s*'([A-Z_]+)'/g)) {
    const at = m.index;
    const line = lineAt(text, at);
    const code = m[1] ?? '?';
    const id = `${file}:${line}`;
    const before = text.slice(0, at);
    const phrases = messagePhrases(text.slice(at, at + 400));
    if (/throw\s+$/.test(before)) {
      const t = before.search(/throw\s+$/);
      out.push({ id, file, line, code, phrases, how: 'throw -> void', text: `${text.slice(0, t)}void ${text.slice(at)}` });
      continue;
    }
    // the nearest `if (` in the six lines above, not already taken by another site
    const windowStart = before.split('\n').slice(0, -7).join('\n').length;
    const ifAt = before.lastIndexOf('if (');
    if (ifAt >= windowStart && ifAt >= 0 && !usedIfs.has(ifAt)) {
      usedIfs.add(ifAt);
      out.push({ id, file, line, code, phrases, how: `if at line ${lineAt(text, ifAt)} never holds`, text: `${text.slice(0, ifAt)}if (0) ${text.slice(ifAt)}` });
    } else {
      out.push({ id, file, line, code, phrases, how: 'a default answer, no condition of its own', text: undefined });
    }
  }
  return out;
}

/** The four-word runs of the literal text of a GateError call's message (what `${...}` fills in left out). */
function messagePhrases(call: string): string[] {
  const end = call.indexOf(');');
  const literal = (end > 0 ? call.slice(0, end) : call)
    .replace(/\$\{[^}]*\}/g, '\n')
    .split(/[`'"\n]/)
    .slice(2) // the call's head and its code
    .filter((t) => /[a-z]{3}/.test(t));
  const out: string[] = [];
  for (const t of literal) {
    const words = t.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w));
    for (let i = 0; i + 4 <= words.length; i++) out.push(words.slice(i, i + 4).join(' '));
  }
  return out;
}

const IMPORT = /(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+\.ts)'/g;

/** test file -> every repository file it imports, transitively. */
function importClosure(files: readonly string[]): Map<string, Set<string>> {
  const direct = new Map<string, string[]>();
  const importsOf = (f: string): string[] => {
    let d = direct.get(f);
    if (!d) {
      const abs = path.join(root, f);
      d = existsSync(abs)
        ? [...readFileSync(abs, 'utf8').matchAll(IMPORT)].map((m) => path.relative(root, path.resolve(path.dirname(abs), m[1] ?? '')))
        : [];
      direct.set(f, d);
    }
    return d;
  };
  const out = new Map<string, Set<string>>();
  for (const t of files) {
    const seen = new Set<string>();
    const todo = [t];
    while (todo.length > 0) {
      const f = todo.pop() as string;
      for (const i of importsOf(f)) if (!seen.has(i)) (seen.add(i), todo.push(i));
    }
    out.set(t, seen);
  }
  return out;
}

type Run = { failed?: string; timedOut: boolean };

/** vitest in the copy over `files`, stopping at the first failure; the failing test's file and name. */
function vitest(tree: string, files: readonly string[]): Promise<Run> {
  const report = path.join(tree, '.tmp', 'mutant-run.json');
  rmSync(report, { force: true });
  return new Promise((resolve) => {
    const child = spawn(
      path.join(tree, 'node_modules', '.bin', 'vitest'),
      ['run', '--bail=1', '--maxWorkers=2', '--reporter=json', `--outputFile=${report}`, ...files],
      { cwd: tree, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` } },
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ timedOut });
      if (code === 0) return resolve({ timedOut });
      let failed = `vitest exit ${code} (no report)`;
      try {
        const r = JSON.parse(readFileSync(report, 'utf8')) as {
          testResults: { name: string; status: string; message?: string; assertionResults: { status: string; fullName: string }[] }[];
        };
        // a failed test first; a file that failed outside its tests (a hook, an import) next; --bail marks the
        // files it cancelled as failed too, with neither
        const test = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${path.relative(tree, f.name)} > ${a.fullName}`))[0];
        const file = r.testResults.find((f) => f.status === 'failed' && f.message);
        failed = test ?? (file ? `${path.relative(tree, file.name)} > ${file.message?.split('\n')[0] ?? ''}` : failed);
      } catch {
        // the exit code alone says a test failed
      }
      resolve({ failed, timedOut });
    });
  });
}

function copyTree(): string {
  const tree = path.join(mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-mutants-')), 'tree');
  const files = git('ls-files', '--cached', '--others', '--exclude-standard', '-z').split('\0').filter((f) => f && existsSync(path.join(root, f)));
  for (const f of files) {
    mkdirSync(path.join(tree, path.dirname(f)), { recursive: true });
    cpSync(path.join(root, f), path.join(tree, f));
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
  mkdirSync(path.join(tree, '.tmp'), { recursive: true });
  return tree;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const listOnly = args.includes('--list');
  const only = args.filter((a) => !a.startsWith('--'));
  // a source file names all its mutants, file:line one of them
  const onlyFile = (f: string): boolean => only.length === 0 || only.some((o) => o === f || o.startsWith(`${f}:`));
  const sources = git('ls-files', ...ROOMS.filter((r) => existsSync(path.join(root, r))))
    .split('\n')
    .filter((f) => f.endsWith('.ts') && onlyFile(f));
  const mutants = sources.flatMap(mutantsOf).filter((m) => only.length === 0 || only.includes(m.file) || only.includes(m.id));
  if (listOnly) {
    for (const m of mutants) console.log(`${m.id}\t${m.code}\t${m.how}\t${m.phrases[0] ?? ""}`);
    return;
  }
  const tests = git('ls-files', '--cached', '--others', '--exclude-standard', 'test').split('\n').filter((f) => f.endsWith('.test.ts'));
  const closure = importClosure(tests);
  const testText = new Map(tests.map((t) => [t, readFileSync(path.join(root, t), 'utf8')]));
  const tree = copyTree();
  console.log(`${mutants.length} mutants over ${sources.length} files; tree copy ${tree}`);
  const results: Result[] = [];
  for (const m of mutants) {
    if (m.text === undefined) {
      results.push({ ...m, status: 'no mutant', ran: 0 });
      console.log(`-        ${m.id} ${m.code}: ${m.how}`);
      continue;
    }
    const target = path.join(tree, m.file);
    const original = readFileSync(target, 'utf8');
    writeFileSync(target, m.text);
    const started = Date.now();
    try {
      const importers = tests.filter((t) => closure.get(t)?.has(m.file));
      // what runs the bundle (every module is in it): the CLI, the step runner, the release scripts
      const spawnsTheCli = (t: string): boolean => /\brunCli\(|runTask\(|'rekor-gate\.js'/.test(testText.get(t) ?? '');
      const code = new RegExp(`\\b${m.code}\\b`);
      const naming = (t: string): boolean => {
        const text = testText.get(t) ?? '';
        return code.test(text) || m.phrases.some((p) => text.includes(p));
      };
      // the importers that name the code first (the likely killers: a small set, so the first run is short)
      const sets: [1 | 2 | 3, string[]][] = [
        [1, importers.filter(naming)],
        [1, importers.filter((t) => !naming(t))],
        [2, tests.filter((t) => !importers.includes(t) && naming(t))],
        [3, tests.filter((t) => !importers.includes(t) && !naming(t) && spawnsTheCli(t))],
      ];
      let result: Result = { ...m, status: 'survived', ran: 0 };
      for (const [tier, files] of sets) {
        if (files.length === 0) continue;
        const r = await vitest(tree, files);
        result.ran += files.length;
        if (r.timedOut) result = { ...result, status: 'timeout', tier };
        else if (r.failed) result = { ...result, status: 'killed', by: r.failed, tier };
        if (result.status !== 'survived') break;
      }
      results.push(result);
      console.log(`${result.status.padEnd(8)} ${m.id} ${m.code} (${m.how}; ${result.ran} files, ${Math.round((Date.now() - started) / 1000)} s)${result.by ? `: ${result.by}` : ''}`);
    } finally {
      writeFileSync(target, original);
    }
  }
  // the killers, unmutated: each must pass
  const killers = [...new Set(results.flatMap((r) => (r.by ? [r.by.split(' > ')[0] as string] : [])))].filter((f) => f.endsWith('.test.ts'));
  const baseline = killers.length > 0 ? await vitest(tree, killers) : { timedOut: false };
  const baselineOk = !baseline.timedOut && !('failed' in baseline && baseline.failed);
  console.log(`baseline (the ${killers.length} killing files, unmutated): ${baselineOk ? 'pass' : `FAILS: ${'failed' in baseline ? baseline.failed : 'timeout'}`}`);

  const table = [
    '| check | code | mutant | result | test that kills it |',
    '| --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.id} | ${r.code} | ${r.how} | ${r.status}${r.tier ? ` (set ${r.tier})` : ''} | ${r.by ?? ''} |`),
  ].join('\n');
  mkdirSync(path.join(root, '.tmp'), { recursive: true });
  const out = only.length === 0 ? 'mutants' : 'mutants-partial';
  writeFileSync(path.join(root, '.tmp', `${out}.md`), `${table}\n`);
  writeFileSync(path.join(root, '.tmp', `${out}.json`), `${JSON.stringify({ baselineOk, results }, null, 1)}\n`);
  const count = (s: Result['status']): number => results.filter((r) => r.status === s).length;
  console.log(`${count('killed')} killed, ${count('survived')} survived, ${count('timeout')} timed out, ${count('no mutant')} without a mutant; table in .tmp/${out}.md`);
  rmSync(path.dirname(tree), { recursive: true, force: true });
  if (!baselineOk || count('survived') + count('timeout') > 0) process.exitCode = 1;
}

await main();
