import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startOidcIssuer, type OidcIssuer } from './oidc-issuer.ts';
import { answers200, freePort, startServer } from './process.ts';
import { StackDir } from './stack-dir.ts';
import { toolPath } from './tools.ts';

/**
 * The real Fulcio on loopback: `fulcio serve --ca ephemeralca --ct-log-url=""` (an in-memory CA; no CT log, so
 * its certificates carry no SCT), trusting one OIDC issuer of ours (oidc-issuer.ts) through --config-path
 * (type email, client ID sigstore), HTTP, gRPC and metrics on free 127.0.0.1 ports, its legacy gRPC socket in
 * the stack's directory.
 */
export type Fulcio = {
  readonly url: string;
  /** The CA chain (root last), PEM, and in a file (SIGSTORE_ROOT_FILE, cosign's certificate-chain). */
  readonly chainPem: string;
  readonly chainPath: string;
  readonly oidc: OidcIssuer;
  stop(keepLogs?: boolean): Promise<void>;
};

export async function startFulcio(): Promise<Fulcio> {
  const stack = new StackDir('fulcio');
  try {
    const oidc = stack.add(await startOidcIssuer());
    const config = path.join(stack.dir, 'fulcio-config.json');
    writeFileSync(config, JSON.stringify({ OIDCIssuers: { [oidc.issuer]: { IssuerURL: oidc.issuer, ClientID: 'sigstore', Type: 'email' } } }));
    const [http, grpc, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
    const url = `http://127.0.0.1:${http}`;
    stack.add(
      await startServer({
        name: 'fulcio',
        bin: toolPath('fulcio'),
        args: [
          'serve', '--ca=ephemeralca', '--ct-log-url=', `--config-path=${config}`,
          '--host=127.0.0.1', `--port=${http}`, '--grpc-host=127.0.0.1', `--grpc-port=${grpc}`, `--metrics-port=${metrics}`,
          `--legacy-unix-domain-socket=${path.join(stack.dir, 'fulcio-legacy.sock')}`,
        ],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: stack.dir, TMPDIR: stack.dir },
        logDir: stack.logDir,
        ready: () => answers200(`${url}/api/v2/trustBundle`),
      }),
    );
    const bundle = (await (await fetch(`${url}/api/v2/trustBundle`)).json()) as { chains: { certificates: string[] }[] };
    const chainPem = (bundle.chains[0]?.certificates ?? []).map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
    if (!chainPem.includes('BEGIN CERTIFICATE')) throw new Error(`fulcio's trust bundle has no certificate: ${JSON.stringify(bundle).slice(0, 200)}`);
    const chainPath = path.join(stack.dir, 'fulcio-chain.pem');
    writeFileSync(chainPath, chainPem);
    return { url, chainPem, chainPath, oidc, stop: (keep = false) => stack.close(keep) };
  } catch (e) {
    await stack.close(true);
    throw e;
  }
}
