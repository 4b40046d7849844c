import { createServer } from 'node:net';
import { TallyError } from './core/errors.ts';

/**
 * Refuses to start when the HTTP port is taken, before anything else starts. A second `tally start`
 * used to learn it only at `listen`, after it had started a devnet (rewriting .tally/devnet.json
 * under the first gateway), chain watchers and a job worker on the same database, and then stayed
 * alive with all of them running.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return; // any free port: nothing to collide with
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new TallyError(
        'service_unavailable',
        `${host.includes(':') ? `[${host}]` : host}:${port} is already in use: is another Tally gateway running? Stop it, or set TALLY_PORT.`,
      );
    throw error;
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}
