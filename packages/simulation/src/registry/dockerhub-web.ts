import { http, type RequestHandler } from 'msw';
import { dockerHubOptionsOf } from '../options.js';
import type { RegistryEnvironment } from './environment.js';

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Docker: Accelerated Container Application Development</title></head>
<body><h1>Docker</h1><p>A web page, not a registry API: the registry of docker.io is served at registry-1.docker.io.</p></body></html>
`;

/**
 * The dockerhub profile's web hosts: `docker.io` answers every path (`/v2/…` included) with a
 * 301 to the home page, as the real one does, and the home page (`www.docker.com`) answers HTML.
 * A client that takes `docker.io` for the API host meets exactly this.
 * @internal
 */
export function createDockerHubWebHandlers(env: RegistryEnvironment): RequestHandler[] {
  const { routes, context } = env;
  const home = `${dockerHubOptionsOf(context.options).homeUrl}/`;
  const redirect = (): Response =>
    new Response(null, { status: 301, headers: { location: home, 'content-length': '0' } });
  const page = ({ request }: { request: Request }): Response =>
    new Response(request.method === 'HEAD' ? null : PAGE, {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(Buffer.byteLength(PAGE)),
      },
    });
  return [
    http.get(routes.web, redirect),
    http.head(routes.web, redirect),
    http.get(routes.home, page),
    http.head(routes.home, page),
  ];
}
