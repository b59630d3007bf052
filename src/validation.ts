/** Request validation: bodies are strict (a wrong type is a 400), URL parts are strings and get coerced. */
import { Ajv, type Options } from 'ajv'
import addFormatsPlugin from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS with a default export that TypeScript sees one level down.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv

const COMMON: Options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false }

/** One compiler per HTTP part: `?dry_run=true` must become `true`, but `"5"` in a body must not become 5. */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const body = addFormats(new Ajv({ ...COMMON, coerceTypes: false }))
  const url = addFormats(new Ajv({ ...COMMON, coerceTypes: 'array' }))
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : url).compile(schema as object)
}
