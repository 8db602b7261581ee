// The first thing wrong with a value against a schema, reported at the node a reader would name:
// the nearest node on the error's path that says what it expects (an `expected` text, or an enum's
// values). A list speaks for its items, so "output.strides must be ..." rather than "output.strides.1".
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export interface SchemaError {
  /** Property names and indexes from the root to the node that speaks for the error; [] for the root. */
  path: string[];
  /** That node; `expectedOf(schema)` is its <what>. */
  schema: TSchema;
  /** The value found there; undefined when it is missing. */
  value: unknown;
}

/** The node one step below `schema`: a property, a list's items or a tuple's n-th item. */
function child(schema: TSchema | undefined, key: string): TSchema | undefined {
  const s = schema as { properties?: Record<string, TSchema>; items?: TSchema | TSchema[]; patternProperties?: Record<string, TSchema> } | undefined;
  if (s?.properties?.[key]) return s.properties[key];
  if (Array.isArray(s?.items)) return s.items[Number(key)];
  if (s?.items) return s.items;
  return s?.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
}

const saysWhatItExpects = (schema: TSchema) => Boolean((schema as { expected?: string }).expected || (schema as { enum?: unknown[] }).enum);

// TypeBox paths are JSON pointers: "/input/mean/1", with ~1 for "/" and ~0 for "~".
const segmentsOf = (pointer: string) => pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/** undefined when the value fits the schema. */
export function firstError(schema: TSchema, value: unknown): SchemaError | undefined {
  const error = Value.Errors(schema, value).First();
  if (!error) return undefined;
  const segments = segmentsOf(error.path);
  let found: SchemaError = { path: [], schema, value };
  let node: TSchema | undefined = schema;
  let here: unknown = value;
  for (let depth = 0; node; depth++) {
    if (saysWhatItExpects(node)) found = { path: segments.slice(0, depth), schema: node, value: here };
    if (depth === segments.length) break;
    node = child(node, segments[depth]);
    here = here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[segments[depth]] : undefined;
  }
  return found;
}
