// Fastify's schema compilers, made lazy. Aspen validates requests with zod (admin/api-route.ts) and
// gives Fastify only the admin routes' 2xx response schemas, which fast-json-stringify turns into
// serializers. By default Fastify compiles every one of them at start, with ajv loaded for the
// purpose: about 12 MB of a freshly started server's memory (bench figure 11), for routes many
// servers are rarely asked. Here a route's serializer is compiled on its first answer of that
// status (a few ms, once), and fast-json-stringify and ajv are loaded with the first one.
// What this trades: a response schema that fast-json-stringify cannot compile fails that route's
// first answer (a 500) instead of the start; the HTTP tests answer every route.
// Fastify's request validation is not used at all: a route declaring a body, query, params or
// headers schema fails the start, saying so.
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

const require = createRequire(import.meta.url);

type Serialize = (data: unknown) => string;
type CompileSerializer = (route: { schema: unknown; method: string; url: string; httpStatus: string }) => Serialize;
/** What `@fastify/fast-json-stringify-compiler` exports (Fastify's own default). */
type SerializerSelector = () => (externalSchemas: unknown, serializerOptions: unknown) => CompileSerializer;

function buildSerializer(externalSchemas: unknown, serializerOptions: unknown): CompileSerializer {
  let compile: CompileSerializer | undefined;
  return (route) => {
    let serialize: Serialize | undefined;
    return (data) => {
      compile ??= (require('@fastify/fast-json-stringify-compiler') as SerializerSelector)()(externalSchemas, serializerOptions);
      serialize ??= compile(route);
      return serialize(data);
    };
  };
}

function buildValidator(): () => never {
  return () => {
    throw new Error('Fastify schema validation is not set up: Aspen validates requests with zod (src/http/admin/api-route.ts)');
  };
}

export const lazySchemaCompilers = { compilersFactory: { buildSerializer, buildValidator } } as unknown as FastifyServerOptions['schemaController'];
