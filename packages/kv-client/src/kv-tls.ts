import { readFileSync } from 'node:fs';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';

/**
 * TLS material of a KV client, as PEM files: the CA that members' certificates chain to, and optionally the
 * client's own certificate and key (both, for clusters that require mutual TLS).
 */
export interface KvTlsFiles {
  /** The CA certificate(s) the member's certificate must chain to. */
  readonly caFile: string;
  /** The client's certificate, presented when the server asks (mutual TLS); needs `keyFile`. */
  readonly certFile?: string;
  /** The client's private key; needs `certFile`. */
  readonly keyFile?: string;
}

/** Channel credentials: TLS from `files` (with a client certificate when both cert and key are given), or insecure. */
export function loadKvChannelCredentials(files?: KvTlsFiles): ChannelCredentials {
  if (files === undefined) return credentials.createInsecure();
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new TypeError('KvTlsFiles: certFile and keyFile go together');
  }
  const ca = readFileSync(files.caFile);
  if (files.certFile === undefined || files.keyFile === undefined) return credentials.createSsl(ca);
  return credentials.createSsl(ca, readFileSync(files.keyFile), readFileSync(files.certFile));
}
