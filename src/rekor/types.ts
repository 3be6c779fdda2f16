/** Rekor v1 REST API shapes (Rekor's openapi.yaml, LogEntry; schemas/rekor-api/log-entry.schema.json). */
export type InclusionProofJSON = {
  logIndex: number;
  rootHash: string; // hex
  treeSize: number;
  hashes: string[]; // hex
  checkpoint?: string;
};

export type LogEntryAnon = {
  body: string; // base64 of the canonical JSON body
  integratedTime: number;
  logID: string; // hex sha256 of the log's SPKI
  logIndex: number; // global log index
  verification?: {
    inclusionProof?: InclusionProofJSON;
    signedEntryTimestamp?: string; // base64
  };
  attestation?: { data?: string; mediaType?: string }; // base64 payload for intoto entries
};

/** `{ "<entryUUID>": LogEntryAnon }` as the API returns it (one key). */
export type LogEntryResponse = Record<string, LogEntryAnon>;
