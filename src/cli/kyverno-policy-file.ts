import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';

/** The policy file of --kyverno-policy, or the one YAML/JSON file of --kyverno-policy-dir (a mounted ConfigMap). */
export function kyvernoPolicyFile(args: { kyvernoPolicy?: string | undefined; kyvernoPolicyDir?: string | undefined }): string | undefined {
  if (args.kyvernoPolicy) return args.kyvernoPolicy;
  const dir = args.kyvernoPolicyDir;
  if (!dir) return undefined;
  if (!existsSync(dir)) throw new GateError('USAGE', `--kyverno-policy-dir ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((n) => !n.startsWith('.') && /\.(ya?ml|json)$/.test(n))
    .map((n) => path.join(dir, n))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
  if (files.length !== 1) throw new GateError('USAGE', `--kyverno-policy-dir ${dir} must hold exactly one .yaml, .yml or .json file, the policy (found ${files.length})`);
  return files[0];
}

