// The memory-bound caps of this run: derived from the memory limit Node reports (a container's cgroup limit,
// as the kubelet sets it from the step's computeResources.limits.memory), else the present caps (net/budget.ts).
import { capsForMemory, type MemoryCaps } from '../net/budget.ts';

export function runCaps(): MemoryCaps {
  return capsForMemory(process.constrainedMemory());
}

/** The registry client's per-manifest and per-blob caps under `caps`. */
export function registryCaps(caps: MemoryCaps = runCaps()): { maxManifestBytes: number; maxBlobBytes: number } {
  return { maxManifestBytes: caps.manifestBytes, maxBlobBytes: caps.blobBytes };
}
