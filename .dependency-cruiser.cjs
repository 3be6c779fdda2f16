// The allowed arrows between src/'s rooms (docs/design.md draws the same picture).
// Run: npm run lint:deps (part of npm test). Type-only imports count: a circle closed by a type is still a circle.
const GROUND = '^src/[^/]+\\.ts$';
const room = (names) => `^src/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No circles, not even through type imports.', from: {}, to: { circular: true } },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'Every module in src/ is imported by another (the entry points excepted: the program, the CEL worker thread).',
      from: { orphan: true, path: '^src/', pathNot: '^src/(cli/entry|policy/cel/worker)\\.ts$' },
      to: {},
    },
    { name: 'nothing-imports-cli', severity: 'error', comment: 'cli wires the rooms together; nothing imports it.', from: { pathNot: '^src/cli/' }, to: { path: '^src/cli/' } },
    {
      name: 'verify-below-outputs',
      severity: 'error',
      comment: 'verify never reaches the outputs (tekton, report, vsa) nor cli.',
      from: { path: room(['verify']) },
      to: { path: room(['cli', 'tekton', 'report', 'vsa', 'inspect']) },
    },
    {
      name: 'outputs-read-verdict-types',
      severity: 'error',
      comment: 'tekton, report, vsa and inspect read a Verdict through verify/types.ts only.',
      from: { path: room(['tekton', 'report', 'vsa', 'inspect']) },
      to: { path: room(['verify']), pathNot: '^src/verify/types\\.ts$' },
    },
    {
      name: 'outputs-apart',
      severity: 'error',
      comment: 'tekton, report, vsa and inspect do not import each other.',
      from: { path: '^src/(tekton|report|vsa|inspect)/' },
      to: { path: room(['tekton', 'report', 'vsa', 'inspect']), pathNot: '^src/$1/' },
    },
    {
      name: 'sources-below-verify',
      severity: 'error',
      comment: 'rekor, registry and bundle import trust, key, attest, net, schema and the ground only.',
      from: { path: room(['rekor', 'registry', 'bundle']) },
      to: { path: room(['cli', 'verify', 'policy', 'tekton', 'report', 'vsa', 'inspect']) },
    },
    {
      name: 'sources-apart',
      severity: 'error',
      comment: 'rekor, registry and bundle reach each other through types only.',
      from: { path: '^src/(rekor|registry|bundle)/' },
      to: { path: room(['rekor', 'registry', 'bundle']), pathNot: '^src/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'policy-key-trust-attest',
      severity: 'error',
      comment: 'policy, key, trust and attest import the ground (and schema); policy -> key -> trust one way; trust reaches net for the TUF mirror.',
      from: { path: room(['policy', 'key', 'trust', 'attest']) },
      to: { path: room(['cli', 'verify', 'rekor', 'registry', 'bundle', 'tekton', 'report', 'vsa', 'inspect']) },
    },
    {
      name: 'signature-below-verify',
      severity: 'error',
      comment: 'signature (what an image signature is: its payload, its hashedrekord binding) imports key, trust, schema and the ground only.',
      from: { path: room(['signature']) },
      to: { path: room(['cli', 'verify', 'rekor', 'registry', 'bundle', 'policy', 'attest', 'net', 'tekton', 'report', 'vsa', 'inspect']) },
    },
    {
      name: 'kyverno-below-verify',
      severity: 'error',
      comment: 'kyverno (admission policies compiled into requirements) imports policy, trust, schema and the ground only; verify and cli read it.',
      from: { path: room(['kyverno']) },
      to: { path: room(['cli', 'verify', 'rekor', 'registry', 'bundle', 'attest', 'signature', 'key', 'net', 'tekton', 'report', 'vsa', 'inspect']) },
    },
    { name: 'key-not-up', severity: 'error', from: { path: room(['key']) }, to: { path: room(['policy', 'attest']) } },
    { name: 'trust-not-up', severity: 'error', from: { path: room(['trust']) }, to: { path: room(['policy', 'key', 'attest']) } },
    { name: 'attest-alone', severity: 'error', from: { path: room(['attest']) }, to: { path: room(['policy', 'key', 'trust', 'net']) } },
    { name: 'policy-offline', severity: 'error', from: { path: room(['policy', 'key']) }, to: { path: room(['net']) } },
    {
      name: 'net-on-the-ground',
      severity: 'error',
      comment: 'net imports nothing of the product but the ground (and schema, for the error bodies it reads).',
      from: { path: room(['net']) },
      to: { path: '^src/[^/]+/', pathNot: room(['net', 'schema']) },
    },
    {
      name: 'schema-on-the-ground',
      severity: 'error',
      comment: 'schema imports nothing of the product but the ground.',
      from: { path: room(['schema']) },
      to: { path: '^src/[^/]+/', pathNot: room(['schema']) },
    },
    { name: 'ground-alone', severity: 'error', comment: 'The ground (src/*.ts) imports only the ground.', from: { path: GROUND }, to: { path: '^src/[^/]+/' } },
    {
      name: 'one-http-layer',
      severity: 'error',
      comment: 'src/net is the one HTTP layer, and src/net/undici.ts the one module in it that imports undici.',
      from: { path: '^src/', pathNot: '^src/net/undici(-lib\\.d)?\\.ts$' },
      to: { path: '(^|/)node_modules/undici/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
