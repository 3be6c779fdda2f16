/**
 * What only `docker build .` runs: the Dockerfile's build stage (CI builds the image with scripts/image.ts, which
 * stands in for that stage with the same script; test/container/image.test.ts runs the real image).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_CODENAME, DEFAULT_DEBS } from '../../scripts/image-rootfs.ts';
import { repoRoot } from '../../scripts/tekton-resources.ts';
import { needs } from '../fixtures/needs.ts';
import { finalStage, parseDockerfile, readDockerfile } from './dockerfile.ts';

const df = readDockerfile();
const fin = finalStage(df);
const build = df.stages.find((s) => s.name === 'build')!;
const dist = path.join(repoRoot, 'dist');

describe('Dockerfile', () => {
  it(`the build stage is node:24 on Debian ${DEBIAN_CODENAME} and runs scripts/image-rootfs.ts into /rootfs, which the scratch stage copies whole`, () => {
    expect(df.stages.length).toBe(2);
    expect(build.base).toMatch(new RegExp(`^node:24-${DEBIAN_CODENAME}(@sha256:[0-9a-f]{64})?$`));
    const runs = build.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.text);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build && node scripts\/image-rootfs\.ts \/rootfs\b/.test(r))).toBe(true);
    expect(fin.base).toBe('scratch');
    expect(fin.instructions.filter((i) => i.cmd === 'RUN')).toEqual([]);
    // scripts/image.ts gives buildah a directory holding rootfs/ for the stage named build.
    expect(fin.instructions.filter((i) => i.cmd === 'COPY').map((i) => [i.flags.from, ...i.args])).toEqual([['build', '/rootfs/', '/']]);
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

/**
 * A directory holding exactly what the build stage's COPY lines bring in (and node_modules, linked: what `npm ci`
 * installs), where the bundle was built as the stage builds it and runs.
 */
function buildStage(): string {
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
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

describe('the build stage', () => {
  it('builds the bundle from exactly the files its COPY lines bring in', () => {
    rmSync(buildStage(), { recursive: true, force: true });
  }, 300_000);

  // The stage's last step, where this machine is the Debian release of the build image and the packages were
  // fetched beforehand (CI: .ci/run's install step).
  needs("test/tekton/image.test.ts (the build stage's scripts/image-rootfs.ts)", { debs: true }).it('then assembles the image tree from them', () => {
    const dir = buildStage();
    try {
      const fs = spawnSync(process.execPath, ['scripts/image-rootfs.ts', path.join(dir, 'rootfs'), '--debs', DEFAULT_DEBS], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      expect(fs.status, fs.stderr).toBe(0);
      expect(existsSync(path.join(dir, 'rootfs', 'nodejs', 'bin', 'node'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('the dist/ folder the image copies', () => {
  it('runs standalone, from a directory with no node_modules', () => {
    if (!existsSync(path.join(dist, 'rekor-gate.js'))) throw new Error(`${dist}/rekor-gate.js is missing: run \`npm run build\` first (this test never skips)`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bundle-'));
    try {
      cpSync(dist, path.join(dir, 'app'), { recursive: true });
      for (const args of [['--help'], ['verify', '--help']]) {
        const r = spawnSync(process.execPath, [path.join(dir, 'app', 'rekor-gate.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: dir } });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/verify/);
      }
      // A command's own chunks (dist/chunks) load too: a bad digest is refused by the verify command, not by a missing file.
      const r = spawnSync(process.execPath, [path.join(dir, 'app', 'rekor-gate.js'), 'verify', '--image-digest', 'sha256:0'], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: dir } });
      expect(r.stderr).toMatch(/sha256:0/);
      expect(r.stderr).not.toMatch(/internal error|Cannot find module/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
