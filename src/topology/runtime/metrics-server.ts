import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

/**
 * Serves GET /metrics (Prometheus text format), GET /healthz (the process answers: 200 'ok') and
 * GET /readyz (200 when ready, 503 when not; the JSON body gives every check and why).
 */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
  readiness?: () => Readiness,
): Promise<{ port: number; host: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        (err) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200);
      res.end('ok');
    } else if (path === '/readyz') {
      // Without a readiness source the server only knows the process is up.
      const state = readiness?.() ?? { ready: true, checks: {} };
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state) + '\n');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    host: typeof address === 'object' && address ? address.address : host,
    // Keep-alive connections (a scraper) would otherwise hold close() open.
    close: () => new Promise((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}
