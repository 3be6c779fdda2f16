/**
 * The interface (params, results, workspaces) of the Tekton catalog Tasks our Pipelines fetch with the git
 * resolver, as the catalog files at those paths declare them at CATALOG_REVISION (tektoncd/catalog main of
 * 2026-07-03; buildah's newest version there is 0.9: 0.10 exists only on unmerged branches). The Pipelines pin
 * that commit. The lint test checks the Pipelines against this, and our own Tasks against their YAML.
 */
export interface TaskInterface {
  params: { name: string; required: boolean }[];
  results: string[];
  workspaces: { name: string; optional: boolean }[];
}

const p = (name: string, required = false) => ({ name, required });
const w = (name: string, optional = false) => ({ name, optional });

export const CATALOG_REPO = 'https://github.com/tektoncd/catalog.git';
/** The tektoncd/catalog commit the Pipelines pin (a supply-chain gate practises what it checks: no branch). */
export const CATALOG_REVISION = '55dd80ef1b83861613dce9080dfdf6656f1aecd4';

/** Keyed by `pathInRepo` in tektoncd/catalog. */
export const UPSTREAM_TASKS: Readonly<Record<string, TaskInterface>> = {
  'task/git-clone/0.10/git-clone.yaml': {
    params: [
      p('url', true), p('revision'), p('refspec'), p('submodules'), p('depth'), p('sslVerify'), p('crtFileName'),
      p('subdirectory'), p('sparseCheckoutDirectories'), p('deleteExisting'), p('httpProxy'), p('httpsProxy'),
      p('noProxy'), p('verbose'), p('gitInitImage'), p('userHome'),
    ],
    results: ['commit', 'url', 'committer-date'],
    workspaces: [w('output'), w('ssh-directory', true), w('basic-auth', true), w('ssl-ca-directory', true)],
  },
  'task/buildah/0.9/buildah.yaml': {
    params: [
      p('IMAGE', true), p('BUILDER_IMAGE'), p('STORAGE_DRIVER'), p('DOCKERFILE'), p('CONTEXT'), p('TLSVERIFY'),
      p('FORMAT'), p('BUILD_EXTRA_ARGS'), p('PUSH_EXTRA_ARGS'), p('SKIP_PUSH'), p('BUILD_ARGS'),
    ],
    results: ['IMAGE_DIGEST', 'IMAGE_URL'],
    workspaces: [w('source'), w('sslcertdir', true), w('dockerconfig', true)],
  },
  'task/skopeo-copy/0.4/skopeo-copy.yaml': {
    params: [p('srcImageURL'), p('destImageURL'), p('srcTLSverify'), p('destTLSverify'), p('multiArch')],
    results: [],
    workspaces: [w('images-url')],
  },
};

/** The interface of a Task manifest (ours). */
export function taskInterface(manifest: unknown): TaskInterface {
  type P = { name: string; default?: unknown };
  type W = { name: string; optional?: boolean };
  const spec = (manifest as { spec?: { params?: P[]; results?: { name: string }[]; workspaces?: W[] } }).spec ?? {};
  return {
    params: (spec.params ?? []).map((x) => ({ name: x.name, required: x.default === undefined })),
    results: (spec.results ?? []).map((r) => r.name),
    workspaces: (spec.workspaces ?? []).map((x) => ({ name: x.name, optional: x.optional === true })),
  };
}
