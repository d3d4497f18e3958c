// Test PKI generated with the openssl CLI at test time: a cluster CA with two peer certificates,
// and a second, unrelated CA with a certificate of its own. Certificates carry SAN IP:127.0.0.1 and
// DNS:localhost and both server and client usage, as peer certificates do. For the negative cases
// the cluster CA also signs an expired certificate and one that names another host.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM text of one certificate and its key. */
export interface TestKeyPair {
  cert: string;
  key: string;
}

/** Everything the TLS tests need. */
export interface TestPki {
  /** PEM of the cluster CA. */
  ca: string;
  /** Two peer identities signed by `ca`. */
  nodeA: TestKeyPair;
  nodeB: TestKeyPair;
  /** PEM of an unrelated CA. */
  otherCa: string;
  /** A peer identity signed by `otherCa`. */
  stranger: TestKeyPair;
  /** Signed by `ca`, valid only on 2020-01-01 (long expired); SANs as the good ones. */
  expired: TestKeyPair;
  /** Signed by `ca`, valid, but naming only `DNS:wrong-node.invalid` (not localhost, no IP). */
  wrongName: TestKeyPair;
  /** Removes the temporary directory. */
  cleanup(): void;
}

const OPENSSL = '/usr/bin/openssl';

/** Generates a fresh PKI in a temporary directory (EC P-256 keys, valid for one day). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'distcache-pki-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync(OPENSSL, args, { cwd: dir, stdio: 'pipe' });
  };
  const extensions = (san: string): string =>
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${san}`,
    ].join('\n');
  writeFileSync(path('peer.ext'), extensions('IP:127.0.0.1,DNS:localhost'));
  writeFileSync(path('wrong-name.ext'), extensions('DNS:wrong-node.invalid'));
  // `openssl x509 -req` cannot date a certificate in the past (OpenSSL 3.0 has no -not_after);
  // `openssl ca` can, with -startdate/-enddate, given a minimal CA configuration.
  writeFileSync(
    path('ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      'database = index.txt',
      'new_certs_dir = .',
      'serial = serial',
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      '[any_name]',
      'commonName = supplied',
    ].join('\n'),
  );
  writeFileSync(path('index.txt'), '');
  writeFileSync(path('serial'), '1000\n');
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string): void =>
    openssl(
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  let serial = 1;
  const request = (name: string): void =>
    openssl(
      'req',
      ...newKey,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    );
  const pair = (name: string): TestKeyPair => ({
    cert: readFileSync(path(`${name}.crt`), 'utf8'),
    key: readFileSync(path(`${name}.key`), 'utf8'),
  });
  const makePeer = (name: string, ca: string, ext = 'peer.ext'): TestKeyPair => {
    request(name);
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${ca}.crt`),
      '-CAkey',
      path(`${ca}.key`),
      '-set_serial',
      String(serial++),
      '-days',
      '1',
      '-extfile',
      path(ext),
      '-out',
      path(`${name}.crt`),
    );
    return pair(name);
  };
  const makeExpired = (name: string, ca: string): TestKeyPair => {
    request(name);
    openssl(
      'ca',
      '-batch',
      '-config',
      path('ca.cnf'),
      '-cert',
      path(`${ca}.crt`),
      '-keyfile',
      path(`${ca}.key`),
      '-in',
      path(`${name}.csr`),
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-extfile',
      path('peer.ext'),
      '-notext',
      '-out',
      path(`${name}.crt`),
    );
    return pair(name);
  };
  try {
    makeCa('cluster-ca');
    makeCa('other-ca');
    return {
      ca: readFileSync(path('cluster-ca.crt'), 'utf8'),
      nodeA: makePeer('node-a', 'cluster-ca'),
      nodeB: makePeer('node-b', 'cluster-ca'),
      otherCa: readFileSync(path('other-ca.crt'), 'utf8'),
      stranger: makePeer('stranger', 'other-ca'),
      expired: makeExpired('expired', 'cluster-ca'),
      wrongName: makePeer('wrong-name', 'cluster-ca', 'wrong-name.ext'),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
