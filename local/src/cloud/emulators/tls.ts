import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** PostgreSQL's certificate and key, and the CA file that functions verify it with. */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * The local cloud's own certificate authority and a server certificate for 127.0.0.1 signed by it, so that the
 * local database speaks TLS and functions verify it exactly as they verify RDS on AWS (verify-full against a CA
 * bundle). Generated once per data dir; `owner` is the uid PostgreSQL runs as (it refuses a key others can read).
 */
export async function localTls(dir: string, owner?: { uid: number; gid: number }): Promise<TlsFiles> {
  const tlsDir = join(dir, 'tls');
  const files = { caFile: join(tlsDir, 'ca.pem'), certFile: join(tlsDir, 'server.pem'), keyFile: join(tlsDir, 'server.key') };
  if (!Object.values(files).every(existsSync)) {
    mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
    const notAfterDate = new Date(Date.now() + 10 * 365 * 86_400_000);
    const ca = await generate([{ name: 'commonName', value: 'DataHarvest local cloud CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    writeFileSync(files.caFile, ca.cert, { mode: 0o644 });
    writeFileSync(files.certFile, server.cert, { mode: 0o644 });
    writeFileSync(files.keyFile, server.private, { mode: 0o600 });
  }
  if (owner) chownSync(files.keyFile, owner.uid, owner.gid);
  readFileSync(files.caFile); // fail here, not in the first function, if the files are unreadable
  return files;
}
