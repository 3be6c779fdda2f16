/**
 * A Tekton bundle (Tekton Bundle Contract v0.1): an OCI image whose every layer is one Tekton resource
 * (a gzipped tar holding its YAML), annotated with dev.tekton.image.{apiVersion,kind,name}.
 */
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { MEDIA_TYPES, type OciClient } from '../../src/registry/client.ts';
import { pushBlob, pushManifest } from '../../src/registry/push.ts';
import type { ImageRef } from '../../src/registry/reference.ts';
import type { Descriptor } from '../../src/registry/schemas.ts';

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
const MAX_OBJECTS = 20;

export type TektonResource = { apiVersion: string; kind: string; name: string; yaml: string };

export function readResource(yamlText: string, file: string): TektonResource {
  const doc = parse(yamlText) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
  const apiVersion = doc?.apiVersion;
  const kind = doc?.kind;
  const name = doc?.metadata?.name;
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith('tekton.dev/') || typeof kind !== 'string' || typeof name !== 'string') {
    throw new Error(`${file}: not a Tekton resource (apiVersion tekton.dev/*, kind and metadata.name are required)`);
  }
  return { apiVersion, kind, name, yaml: yamlText };
}

/** A POSIX ustar archive holding one regular file (no dependency writes a single-file tar more simply). */
export function tarOneFile(name: string, content: Buffer, mtime = 0): Buffer {
  const header = Buffer.alloc(512, 0);
  const put = (s: string, offset: number, length: number) => header.write(s, offset, length, 'utf8');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0');
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: file name too long: ${name}`);
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // checksum field counts as spaces while summing
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of header) sum += b;
  put(`${octal(sum, 7)}\u0000`, 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024, 0)]);
}

export type BuiltBundle = { config: Buffer; layers: { bytes: Buffer; annotations: Record<string, string> }[] };

export function buildBundle(resources: readonly TektonResource[]): BuiltBundle {
  if (resources.length === 0 || resources.length > MAX_OBJECTS) throw new Error(`a Tekton bundle holds 1 to ${MAX_OBJECTS} resources`);
  const seen = new Set<string>();
  const layers = resources.map((r) => {
    const kind = r.kind.toLowerCase();
    const key = `${r.apiVersion}/${kind}/${r.name}`;
    if (seen.has(key)) throw new Error(`duplicate resource in bundle: ${key}`);
    seen.add(key);
    return {
      bytes: gzipSync(tarOneFile(r.name, Buffer.from(r.yaml)), { level: 9 }),
      annotations: { 'dev.tekton.image.apiVersion': r.apiVersion, 'dev.tekton.image.kind': kind, 'dev.tekton.image.name': r.name },
    };
  });
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } }));
  return { config, layers };
}

/** Pushes the bundle and returns its manifest digest (the reference to pin: REPO@sha256:...). */
export async function pushBundle(client: OciClient, ref: ImageRef, bundle: BuiltBundle): Promise<string> {
  const config = await pushBlob(client, ref, bundle.config, CONFIG_MEDIA_TYPE);
  const layers: Descriptor[] = [];
  for (const l of bundle.layers) layers.push({ ...(await pushBlob(client, ref, l.bytes, LAYER_MEDIA_TYPE)), annotations: l.annotations });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers }));
  return pushManifest(client, ref, manifest, MEDIA_TYPES.ociManifest, ref.tag);
}
