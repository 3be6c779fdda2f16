import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { finalStage, imageEmulation, NODE_IN_DISTROLESS, parseDockerfile, readDockerfile } from './dockerfile.ts';

type Any = Record<string, any>;
const df = readDockerfile();
const fin = finalStage(df);
const build = df.stages.find((s) => s.name === 'build')!;
const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml') as Any;
const stepAction = readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') as Any;
const bundle = path.join(repoRoot, 'dist', 'rekor-gate.js');

describe('Dockerfile', () => {
  it('is multi-stage: node:24 runs npm ci and npm run build; the final stage is distroless Node 24', () => {
    expect(df.stages.length).toBe(2);
    expect(build.base).toMatch(/^node:24([-.:@]|$)/);
    const runs = build.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.text);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(fin.base).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
  });

  it('the final stage needs no shell and no package manager, and runs as 65532', () => {
    expect(fin.instructions.filter((i) => i.cmd === 'RUN')).toEqual([]);
    for (const i of fin.instructions.filter((x) => ['ENTRYPOINT', 'CMD'].includes(x.cmd))) expect(i.execForm, i.cmd).toBe(true);
    const user = fin.instructions.filter((i) => i.cmd === 'USER').at(-1)!;
    expect(user.args[0]).toBe('65532:65532');
    // The step fixes no uid (OpenShift's restricted SCC assigns one); the image's USER is the default.
    expect(task.spec.steps[0].securityContext.runAsNonRoot).toBe(true);
    expect(task.spec.steps[0].securityContext.runAsUser).toBeUndefined();
  });

  it("ENTRYPOINT is the bundled CLI, and it is the Task's and the StepAction's command", () => {
    const entry = fin.instructions.filter((i) => i.cmd === 'ENTRYPOINT').at(-1)!;
    expect(entry.args).toEqual([NODE_IN_DISTROLESS, '/app/rekor-gate.js']);
    expect(task.spec.steps[0].command).toEqual(entry.args);
    expect(stepAction.spec.command).toEqual(entry.args);
  });

  it('COPY puts the bundle `npm run build` writes (dist/rekor-gate.js) where ENTRYPOINT runs it', () => {
    const img = imageEmulation(df);
    const host = img.files.find(([c]) => c === '/app')?.[1];
    expect(host).toBe(path.join(repoRoot, 'dist'));
    // scripts/build.ts writes exactly that file.
    expect(readFileSync(path.join(repoRoot, 'scripts', 'build.ts'), 'utf8')).toContain("outfile: 'dist/rekor-gate.js'");
    const workdir = build.instructions.filter((i) => i.cmd === 'WORKDIR').at(-1)!.args[0];
    const copy = fin.instructions.find((i) => i.cmd === 'COPY')!;
    expect(copy.flags.from).toBe('build');
    expect(copy.args).toEqual([`${workdir}/dist/`, '/app/']);
  });

  it('the parser reads continuation lines, flags and exec form', () => {
    const p = parseDockerfile('ARG B=x:1\nFROM ${B} AS b\nWORKDIR /w\nFROM scratch\nCOPY --from=b /w/a \\\n  /a\nENV A=1 \\\n  C=2\nENTRYPOINT ["/a", "b"]\n');
    expect(p.stages.map((s) => [s.base, s.name])).toEqual([['x:1', 'b'], ['scratch', undefined]]);
    const s = p.stages[1]!;
    expect(s.instructions[0]).toMatchObject({ cmd: 'COPY', flags: { from: 'b' }, args: ['/w/a', '/a'] });
    expect(s.instructions[2]).toMatchObject({ cmd: 'ENTRYPOINT', execForm: true, args: ['/a', 'b'] });
  });

  it('.dockerignore lets in only what the build stage copies', () => {
    const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = build.instructions
      .filter((i) => i.cmd === 'COPY')
      .flatMap((i) => i.args.slice(0, -1))
      .map((a) => a.replace(/\/$/, ''));
    expect(copied.sort()).toEqual(allowed.sort());
  });
});

describe('the build stage', () => {
  it('builds the bundle from exactly the files its COPY lines bring in', () => {
    // What `npm ci` installs is node_modules (linked here); everything else must come from the COPY lines.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-build-stage-'));
    try {
      for (const c of build.instructions.filter((i) => i.cmd === 'COPY')) {
        const dest = c.args.at(-1)!;
        for (const src of c.args.slice(0, -1)) {
          const to = dest.endsWith('/') && !src.endsWith('/') ? path.join(dir, dest, path.basename(src)) : path.join(dir, dest === './' ? src : dest);
          cpSync(path.join(repoRoot, src), to, { recursive: true });
        }
      }
      symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      const [bin, ...args] = pkg.scripts.build!.split(' ');
      expect(bin).toBe('node');
      const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const out = spawnSync(process.execPath, [path.join(dir, 'dist', 'rekor-gate.js'), '--help'], { cwd: os.tmpdir(), encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the bundle the image copies', () => {
  it('runs standalone, from a directory with no node_modules', () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first (this test never skips)`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bundle-'));
    try {
      const copy = path.join(dir, 'rekor-gate.js');
      copyFileSync(bundle, copy);
      for (const args of [['--help'], ['verify', '--help']]) {
        const r = spawnSync(process.execPath, [copy, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: dir } });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/verify/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
