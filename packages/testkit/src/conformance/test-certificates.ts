import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of one party's TLS identity, shaped like `@tsraft/grpc`'s `TlsFiles`. */
export interface TestTlsFiles {
  /** The CA this party trusts. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Whether the party takes part in mutual TLS (presents its certificate as a client). */
  readonly mutual?: boolean;
}

/** Test certificates made by {@link generateTestCertificates}. */
export interface TestCertificates {
  /** Files of each trusted node: a certificate signed by the test CA, valid for 127.0.0.1 and localhost. */
  readonly nodes: ReadonlyMap<string, TestTlsFiles>;
  /** A party that trusts the test CA but whose own certificate is signed by an unrelated CA. */
  readonly rogue: TestTlsFiles;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20_000 });
}

function issue(dir: string, caName: string, name: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.pem`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  ]);
}

function authority(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  ]);
}

/**
 * Generates, with the `openssl` command, a test CA, a certificate per node id and a rogue certificate
 * from another CA, into `dir` (an existing, empty temporary directory). For tests only: keys are
 * unencrypted and certificates expire after a day.
 */
export function generateTestCertificates(dir: string, ids: readonly string[]): TestCertificates {
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  authority(dir, 'ca');
  authority(dir, 'rogue-ca');
  const nodes = new Map<string, TestTlsFiles>();
  for (const id of ids) {
    issue(dir, 'ca', id);
    nodes.set(id, {
      caFile: join(dir, 'ca.pem'),
      certFile: join(dir, `${id}.pem`),
      keyFile: join(dir, `${id}.key`),
    });
  }
  issue(dir, 'rogue-ca', 'rogue');
  return {
    nodes,
    rogue: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'rogue.pem'), keyFile: join(dir, 'rogue.key') },
  };
}

/** Whether the `openssl` command is available (TLS conformance tests are skipped without it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
