import { readFileSync } from 'node:fs';
import { type ChannelCredentials, credentials, ServerCredentials } from '@grpc/grpc-js';

/**
 * Where a node's TLS material lives, as PEM files. Server and client use the same files: a node's
 * certificate identifies it both when it serves and when it calls a peer.
 */
export interface TlsFiles {
  /** The CA certificate(s) that peers' certificates must chain to. */
  readonly caFile: string;
  /** This node's certificate. */
  readonly certFile: string;
  /** This node's private key. */
  readonly keyFile: string;
  /**
   * Mutual TLS: the server refuses clients without a certificate signed by `caFile`, and the client
   * presents `certFile`. Default true.
   */
  readonly mutual?: boolean;
}

/** The TLS material of {@link TlsFiles}, read once. */
interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly mutual: boolean;
}

function readTls(files: TlsFiles): TlsMaterial {
  return {
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    mutual: files.mutual ?? true,
  };
}

/** Server credentials: TLS from `files` (client certificates required when mutual), or insecure when absent. */
export function loadServerCredentials(files?: TlsFiles): ServerCredentials {
  if (files === undefined) return ServerCredentials.createInsecure();
  const tls = readTls(files);
  return ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], tls.mutual);
}

/** Channel credentials: TLS from `files` (presenting this node's certificate when mutual), or insecure. */
export function loadChannelCredentials(files?: TlsFiles): ChannelCredentials {
  if (files === undefined) return credentials.createInsecure();
  const tls = readTls(files);
  return tls.mutual ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createSsl(tls.ca);
}
