/**
 * Assembles the step image's root filesystem the way distroless assembles its images: Debian packages unpacked
 * (`apt-get download` + `dpkg-deb -x`, no maintainer scripts, no dpkg database), then only what the program needs.
 *
 *   node scripts/image-rootfs.ts OUT [--debs DIR]
 *
 * This is the one recipe for the image's files. The Dockerfile's build stage runs it (`/rootfs`), and
 * `npm run image` runs it on the host and hands its output to the same Dockerfile in place of that stage
 * (scripts/image.ts), so the image a user builds and the one CI runs hold the same files.
 *
 * OUT receives:
 * - /nodejs/bin/node: the Node binary of the npm `node` package (byte for byte the nodejs.org release), and its LICENSE;
 * - /app: the whole dist/ folder `npm run build` writes;
 * - the shared libraries that binary loads, found by asking the packages' own dynamic loader (`ld.so --list`)
 *   and nothing else of libc6, libgcc-s1, libstdc++6 (no gconv, no nss plugins: glibc 2.36 has files/dns built in);
 * - /etc/ssl/certs/ca-certificates.crt (Debian's Mozilla roots, joined as update-ca-certificates does), /usr/share/zoneinfo;
 * - /etc/passwd, /etc/group (root, nobody, nonroot 65532, as distroless), /etc/nsswitch.conf, /etc/os-release, /tmp (1777);
 * - /var/lib/dpkg/status.d/<package> (each package's control fields, as distroless writes them, for scanners) and
 *   /usr/share/doc/<package>/copyright.
 * No shell, no package manager, no npm. OUT.json records the packages, the Node version and a digest of the tree.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Debian release the packages come from: the Dockerfile's build image is node:24-<this>. */
export const DEBIAN_CODENAME = 'bookworm';
/** What Node needs (and what those need: gcc-12-base holds the copyright of libgcc-s1 and libstdc++6). */
export const PACKAGES = ['libc6', 'libgcc-s1', 'gcc-12-base', 'libstdc++6', 'ca-certificates', 'tzdata'] as const;
/** Where things are in the image (the Task's and the StepAction's command name them). */
export const NODE_IN_IMAGE = '/nodejs/bin/node';
export const APP_IN_IMAGE = '/app';
export const NONROOT = { uid: 65532, gid: 65532, home: '/tekton/home' } as const;

export interface DebPackage {
  name: string;
  version: string;
  architecture: string;
  file: string;
}
export interface RootfsManifest {
  /** sha256 over every path, type, mode, content and link target of the tree. */
  digest: string;
  node: string;
  debianCodename: string;
  packages: Omit<DebPackage, 'file'>[];
  files: number;
  bytes: number;
}

const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  `nonroot:x:${NONROOT.uid}:${NONROOT.gid}:nonroot:${NONROOT.home}:/sbin/nologin`,
];
const GROUP = ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', `nonroot:x:${NONROOT.gid}:`];
const NSSWITCH = ['passwd: files', 'group: files', 'shadow: files', 'hosts: files dns', 'networks: files', 'protocols: files', 'services: files'];

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function osRelease(): Record<string, string> {
  const text = readFileSync(existsSync('/etc/os-release') ? '/etc/os-release' : '/usr/lib/os-release', 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]),
  );
}

/**
 * Set (to 1) by the test set-up (test/setup/hermetic.ts): the tests never download; `.ci/run`'s install step
 * (`node scripts/image-rootfs.ts --fetch-only`) fetches the packages before them.
 */
export const NO_DOWNLOAD_ENV = 'GATE_NO_APT_DOWNLOAD';
export const DEFAULT_DEBS = path.join(repoRoot, '.tmp', 'image', 'debs');

/** The packages of PACKAGES whose candidate .deb is not in `cache` with the sha256 apt's lists give (all, without the lists). */
export function missingPackages(cache = DEFAULT_DEBS): string[] {
  try {
    return fetchPackages(cache, { download: false, dryRun: true }).filter((p) => p.file === '').map((p) => p.name);
  } catch {
    return [...PACKAGES];
  }
}

/**
 * The candidate version of each package (from the local apt lists), fetched into `cache` unless already there
 * (`download: false`, or GATE_NO_APT_DOWNLOAD=1: a missing one is an error; `dryRun`: its file is '').
 */
export function fetchPackages(cache: string, o: { download?: boolean; dryRun?: boolean } = {}): DebPackage[] {
  const download = o.download ?? process.env[NO_DOWNLOAD_ENV] !== '1';
  mkdirSync(cache, { recursive: true });
  const arch = run('dpkg', ['--print-architecture']).trim();
  let show: string;
  try {
    show = run('apt-cache', ['show', '--no-all-versions', ...PACKAGES]);
  } catch (err) {
    throw new Error(`apt-cache show ${PACKAGES.join(' ')} failed: run \`apt-get update\` first (the apt lists are missing)\n${String(err)}`);
  }
  const paragraphs = show.split(/\n\n+/).filter((p) => p.trim());
  return PACKAGES.map((name) => {
    const para = paragraphs.find((p) => new RegExp(`^Package: ${name.replace(/[+.]/g, '\\$&')}$`, 'm').test(p));
    if (!para) throw new Error(`apt-cache knows no ${name}: run \`apt-get update\` first`);
    const field = (f: string): string => {
      const m = new RegExp(`^${f}: (.+)$`, 'm').exec(para);
      if (!m) throw new Error(`apt-cache show ${name}: no ${f} field`);
      return m[1]!.trim();
    };
    const pkg = { name, version: field('Version'), architecture: field('Architecture'), sha256: field('SHA256') };
    if (pkg.architecture !== 'all' && pkg.architecture !== arch) throw new Error(`${name}: candidate is ${pkg.architecture}, not ${arch}`);
    const file = path.join(cache, path.basename(field('Filename')));
    const sum = (): string => createHash('sha256').update(readFileSync(file)).digest('hex');
    if (!existsSync(file) || sum() !== pkg.sha256) {
      if (o.dryRun) return { name, version: pkg.version, architecture: pkg.architecture, file: '' };
      if (!download) {
        throw new Error(`${file} is missing and downloads are off here (${NO_DOWNLOAD_ENV}=1): run \`node scripts/image-rootfs.ts --fetch-only\` (.ci/run's install step) first`);
      }
      rmSync(file, { force: true });
      const tmp = mkdtempSync(path.join(cache, '.download-'));
      try {
        run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${name}=${pkg.version}`], tmp);
        const got = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
        if (got.length !== 1) throw new Error(`apt-get download ${name}=${pkg.version} gave ${got.join(', ') || 'nothing'}`);
        renameSync(path.join(tmp, got[0]!), file); // atomic: a concurrent run sees the whole file or none
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      if (sum() !== pkg.sha256) throw new Error(`${file}: sha256 is not the one apt's signed lists give`);
    }
    return { name, version: pkg.version, architecture: pkg.architecture, file };
  });
}

/** Copies `rel` from `from` to `to`, recreating symlinks (and copying what they point to, inside `from`). */
function copyPath(from: string, to: string, rel: string, seen = new Set<string>()): void {
  rel = rel.replace(/^\/+/, '');
  if (seen.has(rel)) return;
  seen.add(rel);
  const src = path.join(from, rel);
  const dst = path.join(to, rel);
  mkdirSync(path.dirname(dst), { recursive: true });
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(src);
    if (!existsSync(dst)) symlinkSync(target, dst);
    const resolved = target.startsWith('/') ? target : path.posix.join(path.posix.dirname(rel), target);
    copyPath(from, to, resolved, seen);
  } else if (st.isDirectory()) {
    cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
  } else {
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o7777);
  }
}

/** The Node binary of the npm `node` package, and the package holding it (for its LICENSE). */
function nodeBinary(root: string): { binary: string; license: string } {
  const shim = path.join(root, 'node_modules', 'node', 'package.json');
  if (!existsSync(shim)) throw new Error(`${shim} is missing: run \`npm ci\` first`);
  const req = createRequire(shim);
  const archPkg = req.resolve(`node-${process.platform}-${process.arch}/package.json`);
  const dir = path.dirname(archPkg);
  const bin = (JSON.parse(readFileSync(archPkg, 'utf8')) as { bin: { node: string } }).bin.node;
  return { binary: path.join(dir, bin), license: path.join(dir, 'LICENSE') };
}

/** The dynamic loader and the library directories of a tree holding libc6 (unpacked packages, or the rootfs). */
function loaderOf(tree: string): { loader: string; libdirs: string[] } {
  const libdirs = ['lib', 'usr/lib'].flatMap((d) => {
    const base = path.join(tree, d);
    return existsSync(base) ? readdirSync(base).filter((t) => /-linux-gnu/.test(t)).map((t) => path.join(base, t)) : [];
  });
  const loader = libdirs.flatMap((d) => readdirSync(d).filter((f) => /^ld-linux.*\.so\.\d+$/.test(f)).map((f) => path.join(d, f)))[0];
  if (!loader) throw new Error(`${tree}: no ld-linux loader (libc6)`);
  return { loader, libdirs };
}

/** Runs `tree`'s loader with only the libraries of `tree` (never the host's): `args` is a program and its arguments. */
function runWith(tree: string, args: string[]): string {
  const { loader, libdirs } = loaderOf(tree);
  return run(loader, ['--inhibit-cache', '--library-path', libdirs.join(':'), ...args]);
}

/** Libraries the binary loads, as `ld.so --list` with only `sysroot`'s libraries resolves them (paths inside it). */
function neededLibraries(sysroot: string, binary: string): string[] {
  const libs: string[] = [];
  for (const line of runWith(sysroot, ['--list', binary]).split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (/^linux-(vdso|gate)\.so/.test(line)) continue;
    const m = /^(\S+) => (\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (!m) throw new Error(`ld.so --list: cannot read "${line}" (a library not found?)`);
    const [, name, resolved] = m as unknown as [string, string, string];
    // The interpreter by the path the binary names (e.g. /lib64/ld-linux-x86-64.so.2, a symlink in libc6).
    if (name.startsWith('/')) libs.push(name);
    const abs = path.resolve(resolved);
    if (!abs.startsWith(`${path.resolve(sysroot)}/`)) throw new Error(`${name} resolved outside the packages: ${resolved}`);
    libs.push(`/${path.relative(sysroot, abs)}`);
  }
  return libs;
}

/** sha256 over the tree: every path (sorted), its type, permission bits, content or link target. */
export function treeDigest(dir: string): { digest: string; files: number; bytes: number } {
  const h = createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) h.update(`L ${rel} ${readlinkSync(abs)}\n`);
    else if (st.isDirectory()) {
      h.update(`D ${rel} ${mode}\n`);
      for (const e of readdirSync(abs).sort()) walk(rel ? `${rel}/${e}` : e);
    } else {
      const content = readFileSync(abs);
      files += 1;
      bytes += content.length;
      h.update(`F ${rel} ${mode} ${createHash('sha256').update(content).digest('hex')}\n`);
    }
  };
  walk('');
  return { digest: `sha256:${h.digest('hex')}`, files, bytes };
}

/** Builds OUT from scratch (replacing an OUT this script made before) and writes OUT.json. */
export function assembleRootfs(o: { out: string; debs: string; root?: string }): RootfsManifest {
  const root = o.root ?? repoRoot;
  const out = path.resolve(o.out);
  const manifestFile = `${out}.json`;
  if (existsSync(out)) {
    if (!existsSync(manifestFile)) throw new Error(`${out} exists and was not made by this script; remove it or pick another OUT`);
    rmSync(out, { recursive: true, force: true });
  }
  rmSync(manifestFile, { force: true });
  const release = osRelease();
  if (release['ID'] !== 'debian' || release['VERSION_CODENAME'] !== DEBIAN_CODENAME) {
    throw new Error(`the packages must come from Debian ${DEBIAN_CODENAME} (as in the Dockerfile's build image); this system is ${release['PRETTY_NAME'] ?? 'unknown'}`);
  }
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'rekor-gate.js'))) throw new Error(`${dist}/rekor-gate.js is missing: run \`npm run build\` first`);
  const node = nodeBinary(root);

  const packages = fetchPackages(path.resolve(o.debs));
  mkdirSync(path.dirname(out), { recursive: true });
  const sysroot = mkdtempSync(`${out}.packages-`);
  try {
    for (const p of packages) run('dpkg-deb', ['-x', p.file, sysroot]);
    mkdirSync(out, { recursive: true });
    chmodSync(out, 0o755);

    // Node and the program.
    copyPath(path.dirname(node.binary), path.join(out, path.dirname(NODE_IN_IMAGE).slice(1)), path.basename(node.binary));
    copyFileSync(node.license, path.join(out, 'nodejs', 'LICENSE'));
    cpSync(dist, path.join(out, APP_IN_IMAGE.slice(1)), { recursive: true });

    // The libraries it loads; nothing else of those packages.
    const seen = new Set<string>();
    for (const lib of neededLibraries(sysroot, node.binary)) copyPath(sysroot, out, lib, seen);

    // CA roots and time zones.
    const mozilla = path.join(sysroot, 'usr/share/ca-certificates/mozilla');
    const pems = readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort();
    mkdirSync(path.join(out, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(path.join(out, 'etc/ssl/certs/ca-certificates.crt'), pems.map((f) => readFileSync(path.join(mozilla, f), 'utf8').replace(/\n*$/, '\n')).join(''));
    copyPath(sysroot, out, 'usr/share/zoneinfo');

    // Users, name service, release, /tmp.
    writeFileSync(path.join(out, 'etc/passwd'), `${PASSWD.join('\n')}\n`);
    writeFileSync(path.join(out, 'etc/group'), `${GROUP.join('\n')}\n`);
    writeFileSync(path.join(out, 'etc/nsswitch.conf'), `${NSSWITCH.join('\n')}\n`);
    writeFileSync(path.join(out, 'etc/os-release'), readFileSync(existsSync('/usr/lib/os-release') ? '/usr/lib/os-release' : '/etc/os-release'));
    mkdirSync(path.join(out, 'tmp'));
    chmodSync(path.join(out, 'tmp'), 0o1777);

    // Package records and licenses.
    mkdirSync(path.join(out, 'var/lib/dpkg/status.d'), { recursive: true });
    for (const p of packages) {
      writeFileSync(path.join(out, 'var/lib/dpkg/status.d', p.name), run('dpkg-deb', ['-f', p.file]));
      // libgcc-s1 and libstdc++6 link their doc folder to gcc-12-base's, which is in PACKAGES too.
      const doc = `usr/share/doc/${p.name}`;
      if (lstatSync(path.join(sysroot, doc)).isSymbolicLink()) symlinkSync(readlinkSync(path.join(sysroot, doc)), path.join(out, doc));
      else copyPath(sysroot, out, `${doc}/copyright`, seen);
    }

    // The result runs: Node on exactly these libraries.
    const version = runWith(out, [path.join(out, NODE_IN_IMAGE.slice(1)), '-p', 'process.version']).trim();
    if (!/^v24\./.test(version)) throw new Error(`the image's Node is ${version}, not 24`);

    const tree = treeDigest(out);
    const manifest: RootfsManifest = {
      digest: tree.digest,
      node: version,
      debianCodename: DEBIAN_CODENAME,
      packages: packages.map(({ name, version: v, architecture }) => ({ name, version: v, architecture })),
      files: tree.files,
      bytes: tree.bytes,
    };
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    rmSync(sysroot, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const argv = yargs(hideBin(process.argv))
    .usage('$0 OUT [--debs DIR]: assemble the step image root filesystem in OUT\n$0 --fetch-only [--debs DIR]: only download the packages')
    .demandCommand(0, 1)
    .option('debs', { type: 'string', default: DEFAULT_DEBS, describe: 'where the .deb files are kept between runs' })
    .option('fetch-only', { type: 'boolean', default: false, describe: "download the packages' .deb files into --debs, and stop (.ci/run's install step)" })
    .check((a) => (a.fetchOnly || a._.length === 1 ? true : 'OUT is required'))
    .strict()
    .parseSync();
  if (argv.fetchOnly) {
    const got = fetchPackages(path.resolve(argv.debs), { download: true });
    process.stdout.write(`${argv.debs}: ${got.map((p) => `${p.name} ${p.version}`).join(', ')}\n`);
    process.exit(0);
  }
  const m = assembleRootfs({ out: String(argv._[0]), debs: argv.debs });
  process.stdout.write(`${argv._[0]}: ${m.files} files, ${(m.bytes / 1e6).toFixed(1)} MB, Node ${m.node}, ${m.packages.map((p) => `${p.name} ${p.version}`).join(', ')}\n${m.digest}\n`);
}
