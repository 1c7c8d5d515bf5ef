import { request } from 'undici';
import type { RealNamesContext } from '../real-names-child.js';

/**
 * Asks each host for `/v2/` (or the API root) with Node's default dispatcher, as any client would:
 * real DNS (the namespace's hosts file), port 443, TLS verified against the trusted CAs.
 */
export default async function probe(context: RealNamesContext): Promise<unknown> {
  const urls = context.input as readonly string[];
  const answers: { url: string; status?: number; authenticate?: string; error?: string }[] = [];
  for (const url of urls) {
    try {
      const response = await request(url);
      await response.body.dump();
      const authenticate = response.headers['www-authenticate'];
      answers.push({
        url,
        status: response.statusCode,
        ...(typeof authenticate === 'string' ? { authenticate } : {}),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      answers.push({
        url,
        error: `${String(code)}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  const outside = await context.run(
    'getent hosts ghcr.io; getent hosts example.com || echo "example.com: no address"',
  );
  return { answers, outside: outside.stdout };
}
