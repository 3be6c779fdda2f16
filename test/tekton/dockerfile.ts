/** A small Dockerfile reader: enough to know what the final image holds and runs, and to emulate it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ImageEmulation } from '../fixtures/step-runner.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { APP_IN_IMAGE, NODE_IN_IMAGE } from '../../scripts/image-rootfs.ts';

export interface Instruction {
  cmd: string;
  /** The raw argument text (continuation lines joined). */
  text: string;
  /** Flags such as --from=build. */
  flags: Record<string, string>;
  /** The arguments: the JSON array for exec form, else split on whitespace. */
  args: string[];
  execForm: boolean;
}
export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}
export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const logical: string[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && cur === '') continue;
    if (/\\\s*$/.test(line)) {
      cur += line.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  const out: ParsedDockerfile = { args: {}, stages: [] };
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) throw new Error(`Dockerfile: cannot parse "${l}"`);
    const cmd = m[1]!.toUpperCase();
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    while (rest.startsWith('--')) {
      const f = /^--([\w-]+)(?:=(\S+))?\s*/.exec(rest)!;
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    let args: string[];
    let execForm = false;
    if (rest.startsWith('[')) {
      args = JSON.parse(rest) as string[];
      execForm = true;
    } else {
      args = rest.split(/\s+/);
    }
    const ins: Instruction = { cmd, text: rest, flags, args, execForm };
    if (cmd === 'FROM') {
      const base = args[0]!.replace(/\$\{(\w+)\}/g, (_, a: string) => out.args[a] ?? '');
      const as = args.findIndex((a) => a.toUpperCase() === 'AS');
      out.stages.push({ base, ...(as >= 0 ? { name: args[as + 1] } : {}), instructions: [] });
    } else if (cmd === 'ARG' && out.stages.length === 0) {
      const [k, v] = rest.split('=');
      out.args[k!] = v ?? '';
    } else {
      const stage = out.stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${cmd} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return out;
}

export function readDockerfile(): ParsedDockerfile {
  return parseDockerfile(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
}

export function finalStage(df: ParsedDockerfile): Stage {
  const s = df.stages.at(-1);
  if (!s) throw new Error('Dockerfile has no stage');
  return s;
}

/** ENV instructions of a stage (KEY=VALUE pairs). */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.cmd === 'ENV')) {
    for (const pair of i.args) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/**
 * Where the final image's files come from on this machine, for the step runner's emulation: the image is
 * scripts/image-rootfs.ts's tree, whose /app is dist/ and whose /nodejs/bin/node is the npm `node` package's
 * binary (this process's node); ENTRYPOINT and ENV are the Dockerfile's final stage. (test/container/ runs the
 * real image.)
 */
export function imageEmulation(df: ParsedDockerfile = readDockerfile()): ImageEmulation {
  const fin = finalStage(df);
  const entry = fin.instructions.filter((x) => x.cmd === 'ENTRYPOINT').at(-1);
  if (!entry?.execForm) throw new Error('the final stage needs an exec-form ENTRYPOINT (there is no shell)');
  return {
    entrypoint: entry.args,
    env: stageEnv(fin),
    files: [
      [APP_IN_IMAGE, path.join(repoRoot, 'dist')],
      [NODE_IN_IMAGE, process.execPath],
    ],
  };
}
