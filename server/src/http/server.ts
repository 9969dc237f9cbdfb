import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningHttpServer {
  server: http.Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), then drops what is left. */
  close(timeoutMs: number): Promise<void>;
}

export async function startHttpServer(
  app: { callback(): http.RequestListener },
  options: { host: string; port: number },
): Promise<RunningHttpServer> {
  const server = http.createServer(app.callback());
  // Slow clients must not hold sockets forever; WeCom itself gives up after 5 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
