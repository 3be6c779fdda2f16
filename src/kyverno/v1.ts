// Kyverno `ClusterPolicy` / `Policy` (kyverno.io/v1) `verifyImages` rules compiled into what the gate requires.
// Kyverno's code is the reference (api/kyverno/v1/image_verification_types.go Validate and
// pkg/engine/internal/imageverifier.go at 111e07bbecc66abfde36ab99969af22d7a961003); a field the gate does not
// apply is refused by name, never ignored.
import { GateError } from '../errors.ts';
import { exact, regexp } from '../policy/matcher.ts';
import type { KeylessSigner } from '../policy/policy.ts';
import { capped } from '../text.ts';
import { parseTrustedKeys, type TrustedKey } from '../trust/public-keys.ts';
import { compileConditions, type AnyAllDoc } from './conditions.ts';
import type { AttestationRequirement, AttestorEntry, AttestorSet, ImageRule, LogChoice } from './types.ts';

type Doc = Record<string, unknown>;

/** Kyverno's default log when an attestor has no rekor block at all (imageverifier.go buildCosignVerifier). */
const PUBLIC_REKOR = 'https://rekor.sigstore.dev';

/** Collects every problem of a policy, each naming the rule, the field and the fix. */
class Problems {
  readonly list: string[] = [];
  /** Whether the fix of a problem is the flag that allows ignoreTlog. */
  ignoreTlogRefused = false;
  readonly options: CompileOptions;
  constructor(options: CompileOptions) {
    this.options = options;
  }
  add(where: string, what: string): void {
    this.list.push(`${where}: ${what}`);
  }
}

/** Options of the compilation that flags decide. */
export type CompileOptions = {
  /** rekor.ignoreTlog: true is honoured for key attestors of image signatures (the user said the log is not checked). */
  readonly allowIgnoreTlog: boolean;
};

const isObj = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields Kyverno has that the gate does not apply: each refused with why and what to do. */
const REFUSED: Record<string, Record<string, string>> = {
  verifyImages: {
    image: 'deprecated in Kyverno; use imageReferences',
    key: 'deprecated in Kyverno; use attestors[].entries[].keys.publicKeys',
    roots: 'deprecated in Kyverno; use attestors[].entries[].keyless',
    subject: 'deprecated in Kyverno; use attestors[].entries[].keyless.subject',
    issuer: 'deprecated in Kyverno; use attestors[].entries[].keyless.issuer',
    additionalExtensions: 'not supported by rekor-gate',
    annotations: 'payload annotations are not checked by rekor-gate; remove them for the gate',
    repository: 'signatures in another repository are not read by rekor-gate; keep them beside the image',
    validate: 'validate.deny over the verified images is not evaluated by rekor-gate',
    imageRegistryCredentials: 'rekor-gate reads registry credentials from its dockerconfig workspace (DOCKER_CONFIG), not from the policy',
  },
  attestor: {
    annotations: 'payload annotations are not checked by rekor-gate',
    repository: 'signatures in another repository are not read by rekor-gate',
    certificates: 'certificate attestors are not supported by rekor-gate yet; use keys or keyless',
  },
  keys: {
    kms: 'KMS keys are not read by rekor-gate; paste the public key in publicKeys',
    secret: 'Kubernetes Secrets are not read by rekor-gate; paste the public key in publicKeys',
  },
  keyless: {
    roots: 'custom roots are not read from the policy; put the CA in the trusted_root.json of the trust workspace',
    additionalExtensions: 'not supported by rekor-gate',
  },
  ctlog: {
    pubkey: 'the CT log keys come from the trusted root (trust workspace), not the policy',
    tsaCertChain: 'the timestamp authorities come from the trusted root (trust workspace), not the policy',
  },
};

const ALLOWED: Record<string, readonly string[]> = {
  verifyImages: ['type', 'imageReferences', 'skipImageReferences', 'attestors', 'attestations', 'cosignOCI11', 'mutateDigest', 'verifyDigest', 'required', 'useCache', 'failureAction'],
  attestorSet: ['count', 'entries'],
  attestor: ['keys', 'keyless', 'attestor', 'signatureAlgorithm'],
  keys: ['publicKeys', 'signatureAlgorithm', 'rekor', 'ctlog'],
  keyless: ['subject', 'subjectRegExp', 'issuer', 'issuerRegExp', 'rekor', 'ctlog'],
  rekor: ['url', 'pubkey', 'ignoreTlog'],
  ctlog: ['ignoreSCT'],
  attestation: ['name', 'type', 'predicateType', 'attestors', 'conditions'],
};

function fields(obj: Doc, kind: string, where: string, p: Problems): void {
  for (const k of Object.keys(obj)) {
    const refused = REFUSED[kind]?.[k];
    if (refused) p.add(`${where}.${k}`, `not supported: ${refused}`);
    else if (!ALLOWED[kind]?.includes(k)) p.add(`${where}.${k}`, `unknown field (Kyverno's ${kind} has no such field, or rekor-gate does not read it)`);
  }
}

function logChoice(block: Doc, rekor: unknown, where: string, p: Problems): LogChoice {
  if (block.ctlog !== undefined) {
    if (!isObj(block.ctlog)) p.add(`${where}.ctlog`, 'must be a map');
    else {
      fields(block.ctlog, 'ctlog', `${where}.ctlog`, p);
      if (block.ctlog.ignoreSCT === true) p.add(`${where}.ctlog.ignoreSCT`, 'not supported: rekor-gate checks the SCT whenever the trusted root lists CT logs; remove ignoreSCT');
    }
  }
  // No rekor block: Kyverno uses the public log. A rekor block: its url as written, '' when it has none.
  if (rekor === undefined) return { url: PUBLIC_REKOR, ignoreTlog: false };
  if (!isObj(rekor)) {
    p.add(`${where}.rekor`, 'must be a map');
    return { url: '', ignoreTlog: false };
  }
  fields(rekor, 'rekor', `${where}.rekor`, p);
  const url = typeof rekor.url === 'string' ? rekor.url : '';
  const ignoreTlog = rekor.ignoreTlog === true;
  if (ignoreTlog && !p.options.allowIgnoreTlog) {
    p.ignoreTlogRefused = true;
    p.add(`${where}.rekor.ignoreTlog`, 'true: the transparency log would not be checked, which rekor-gate does only when told so');
  } else if (!ignoreTlog && url === '') {
    p.add(
      `${where}.rekor.url`,
      'is empty: a rekor block without url is an empty URL to Kyverno, which then fails with "no Host in request URL" (it does not fall back to the public log); set url, e.g. url: https://rekor.sigstore.dev, or your private Rekor',
    );
  } else if (url !== '') {
    try {
      const u = new URL(url);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    } catch {
      p.add(`${where}.rekor.url`, `${capped(url)} is not an http(s) URL`);
    }
  }
  const pub = typeof rekor.pubkey === 'string' && rekor.pubkey.trim() !== '' ? rekor.pubkey : undefined;
  return { url, ignoreTlog, ...(pub ? { publicKeyPem: pub } : {}) };
}

function attestorSet(set: unknown, where: string, p: Problems, depth = 0): AttestorSet {
  if (!isObj(set)) {
    p.add(where, 'must be a map with entries (and count)');
    return { path: where, count: 0, entries: [] };
  }
  fields(set, 'attestorSet', where, p);
  const raw = Array.isArray(set.entries) ? set.entries : [];
  if (raw.length === 0) p.add(`${where}.entries`, 'an entry is required (Kyverno: "An entry is required")');
  const entries: AttestorEntry[] = [];
  raw.forEach((e, i) => entries.push(...attestor(e, `${where}.entries[${i}]`, p, depth)));
  // Kyverno ExpandStaticKeys: several PEM keys in one publicKeys are as many entries, the count across them.
  const count = set.count;
  if (count !== undefined && count !== null && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) p.add(`${where}.count`, 'must be a whole number');
  const n = typeof count === 'number' && count > 0 ? count : entries.length;
  if (typeof count === 'number' && count > entries.length) p.add(`${where}.count`, `${count} cannot exceed the number of entries (${entries.length}) (Kyverno: "Count cannot exceed length of entries")`);
  return { path: where, count: n, entries };
}

function attestor(e: unknown, where: string, p: Problems, depth: number): AttestorEntry[] {
  if (!isObj(e)) {
    p.add(where, 'must be a map');
    return [];
  }
  fields(e, 'attestor', where, p);
  const kinds = ['keys', 'keyless', 'attestor', 'certificates'].filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    p.add(where, `exactly one of keys, certificates, keyless or a nested attestor is required (has ${kinds.join(', ') || 'none'})`);
    return [];
  }
  const alg = e.signatureAlgorithm ?? (isObj(e.keys) ? e.keys.signatureAlgorithm : undefined);
  if (alg !== undefined && alg !== '' && alg !== 'sha256') p.add(`${where}.signatureAlgorithm`, `${capped(String(alg))}: rekor-gate verifies signatures as the log recorded them (the entry's hash); remove signatureAlgorithm or set sha256`);
  if (e.attestor !== undefined) {
    if (depth >= 4) {
      p.add(`${where}.attestor`, 'nested more than 4 deep');
      return [];
    }
    return [{ kind: 'nested', path: `${where}.attestor`, set: attestorSet(e.attestor, `${where}.attestor`, p, depth + 1) }];
  }
  if (e.keys !== undefined) {
    const k = e.keys;
    if (!isObj(k)) {
      p.add(`${where}.keys`, 'must be a map');
      return [];
    }
    fields(k, 'keys', `${where}.keys`, p);
    const log = logChoice(k, k.rekor, `${where}.keys`, p);
    if (typeof k.publicKeys !== 'string' || k.publicKeys.trim() === '') {
      if (k.kms === undefined && k.secret === undefined) p.add(`${where}.keys.publicKeys`, 'a public key is required (Kyverno: "A public key, kms key or secret is required")');
      return [];
    }
    if (/^\s*\{\{/.test(k.publicKeys)) {
      p.add(`${where}.keys.publicKeys`, 'a variable reference (a ConfigMap lookup) is not resolved by rekor-gate; paste the PEM key');
      return [];
    }
    let keys: TrustedKey[];
    try {
      keys = parseTrustedKeys(k.publicKeys, `${where}.keys.publicKeys`);
    } catch (err) {
      p.add(`${where}.keys.publicKeys`, (err as Error).message);
      return [];
    }
    return keys.map((key, i) => ({ kind: 'signer', path: keys.length > 1 ? `${where}.keys[key ${i + 1}]` : `${where}.keys`, keys: [key], keyless: [], log }));
  }
  const kl = e.keyless;
  if (!isObj(kl)) {
    if (e.certificates === undefined) p.add(`${where}.keyless`, 'must be a map');
    return [];
  }
  fields(kl, 'keyless', `${where}.keyless`, p);
  const log = logChoice(kl, kl.rekor, `${where}.keyless`, p);
  if (kl.rekor === undefined) p.add(`${where}.keyless.rekor`, 'is required: Kyverno refuses a keyless attestor with neither rekor nor roots ("Either Rekor URL or roots are required"); add rekor: {url: https://rekor.sigstore.dev}');
  const matcher = (ex: unknown, re: unknown, name: string) => {
    if (typeof ex === 'string' && ex !== '') return exact(ex);
    if (typeof re === 'string' && re !== '') {
      try {
        return regexp(re, `${where}.keyless.${name}RegExp`);
      } catch (err) {
        p.add(`${where}.keyless.${name}RegExp`, (err as Error).message);
      }
    }
    return undefined;
  };
  const identity = matcher(kl.subject, kl.subjectRegExp, 'subject');
  const issuer = matcher(kl.issuer, kl.issuerRegExp, 'issuer');
  if (!identity || !issuer) {
    p.add(`${where}.keyless`, 'rekor-gate needs both an identity (subject or subjectRegExp) and an issuer (issuer or issuerRegExp)');
    return [];
  }
  if (log.ignoreTlog) p.add(`${where}.keyless.rekor.ignoreTlog`, 'true: not supported for keyless: without its log entry nothing trusted dates the short-lived certificate; set ignoreTlog: false');
  const signer: KeylessSigner = { identity, issuer, label: `${where}.keyless` };
  return [{ kind: 'signer', path: `${where}.keyless`, keys: [], keyless: [signer], log }];
}

function attestation(a: unknown, where: string, p: Problems): AttestationRequirement | undefined {
  if (!isObj(a)) {
    p.add(where, 'must be a map');
    return undefined;
  }
  fields(a, 'attestation', where, p);
  // `type`, formerly `predicateType` (imageverifier.go verifyAttestations).
  const type = typeof a.type === 'string' && a.type !== '' ? a.type : typeof a.predicateType === 'string' ? a.predicateType : '';
  if (type === '') {
    p.add(`${where}.type`, 'missing type (the predicate type, e.g. https://slsa.dev/provenance/v1)');
    return undefined;
  }
  const attestors = (Array.isArray(a.attestors) ? a.attestors : []).map((s, i) => attestorSet(s, `${where}.attestors[${i}]`, p));
  if (JSON.stringify(a.attestors ?? []).includes('"ignoreTlog":true')) p.add(`${where}.attestors`, 'rekor.ignoreTlog: true is not supported for attestations: an attestation is verified with its log entry; set ignoreTlog: false');
  let conditions: AttestationRequirement['conditions'];
  if (a.conditions !== undefined) {
    if (!Array.isArray(a.conditions) || !a.conditions.every(isObj)) p.add(`${where}.conditions`, 'must be a list of {all, any}');
    else {
      try {
        conditions = compileConditions(a.conditions as AnyAllDoc[], where);
      } catch (err) {
        p.add(`${where}.conditions`, (err as Error).message);
      }
    }
  }
  return { path: where, type, attestors, ...(conditions ? { conditions } : {}) };
}

/** Compiles one kyverno.io/v1 ClusterPolicy or Policy; every problem is one BAD_POLICY error listing them all. */
export function compileV1(doc: Doc, label: string, o: CompileOptions): ImageRule[] {
  const p = new Problems(o);
  const name = isObj(doc.metadata) && typeof doc.metadata.name === 'string' ? doc.metadata.name : '(unnamed)';
  const policy = `${String(doc.kind)}/${name}`;
  const spec = isObj(doc.spec) ? doc.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  const out: ImageRule[] = [];
  rules.forEach((r, ri) => {
    if (!isObj(r)) return;
    const rule = typeof r.name === 'string' ? r.name : `rules[${ri}]`;
    const verifyImages = Array.isArray(r.verifyImages) ? r.verifyImages : [];
    verifyImages.forEach((v, vi) => {
      const entry = `verifyImages[${vi}]`;
      const where = `${policy} rule ${rule} ${entry}`;
      if (!isObj(v)) return p.add(where, 'must be a map');
      fields(v, 'verifyImages', where, p);
      const type = v.type === undefined || v.type === '' ? 'Cosign' : v.type;
      if (type === 'Notary') p.add(`${where}.type`, 'Notary: rekor-gate verifies Sigstore signatures only (Cosign, SigstoreBundle)');
      else if (type !== 'Cosign' && type !== 'SigstoreBundle') p.add(`${where}.type`, `${capped(String(type))} is not Cosign, SigstoreBundle or Notary`);
      const refs = Array.isArray(v.imageReferences) ? v.imageReferences.filter((x): x is string => typeof x === 'string') : [];
      if (refs.length === 0) {
        p.add(
          `${where}.imageReferences`,
          'is missing: Kyverno refuses a verifyImages entry without image references ("An image reference is required"); add the images it covers, e.g. imageReferences: ["registry.example.com/team/*"] (or ["*"] for every image)',
        );
      }
      const attestors = (Array.isArray(v.attestors) ? v.attestors : []).map((s, i) => attestorSet(s, `${where}.attestors[${i}]`, p));
      const attestations = (Array.isArray(v.attestations) ? v.attestations : []).flatMap((a, i) => attestation(a, `${where}.attestations[${i}]`, p) ?? []);
      if (attestors.length === 0 && attestations.length === 0) {
        p.add(where, 'has neither attestors nor attestations: nothing for the gate to verify (a mutateDigest- or verifyDigest-only rule); remove it from the policy given to rekor-gate');
      }
      out.push({
        policy,
        rule,
        entry,
        imageReferences: refs,
        skipImageReferences: Array.isArray(v.skipImageReferences) ? v.skipImageReferences.filter((x): x is string => typeof x === 'string') : [],
        type: type === 'SigstoreBundle' ? 'SigstoreBundle' : 'Cosign',
        cosignOCI11: v.cosignOCI11 === true,
        attestors,
        attestations,
      });
    });
  });
  if (rules.length > 0 && out.length === 0 && p.list.length === 0) p.add(policy, 'has no verifyImages rule: nothing for the gate to verify');
  if (p.list.length > 0) {
    throw new GateError('BAD_POLICY', `${label}: the Kyverno policy cannot be applied as it is: ${p.list.map((l, i) => `(${i + 1}) ${l}`).join(' ')}`, p.ignoreTlogRefused ? { hint: { give: 'ignore-tlog' } } : undefined);
  }
  return out;
}
