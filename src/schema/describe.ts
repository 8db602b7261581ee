// The <what> of sharp's message template, read off a schema, so a bad value's message and the
// document's description of the same parameter come from one definition.
import type { TSchema } from '@sinclair/typebox';

function range(schema: TSchema): string {
  const { minimum, maximum, multipleOf } = schema as { minimum?: number; maximum?: number; multipleOf?: number };
  const multiple = multipleOf === undefined ? '' : ` and a multiple of ${multipleOf}`;
  if (minimum !== undefined && maximum !== undefined) return ` between ${minimum} and ${maximum}${multiple}`;
  if (minimum !== undefined) return ` of at least ${minimum}${multiple}`;
  if (maximum !== undefined) return ` of at most ${maximum}${multiple}`;
  return multipleOf === undefined ? '' : ` that is a multiple of ${multipleOf}`;
}

/** `one of a, b`, `a number between 0 and 1`, `an integer between 64 and 8192 and a multiple of 32`, `a comma-separated list of a, b`, ... ; an explicit `expected` wins. */
export function expectedOf(schema: TSchema): string {
  const s = schema as TSchema & { expected?: string; enum?: unknown[]; items?: TSchema; type?: string };
  if (s.expected) return s.expected;
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.type === 'array' && s.items) {
    const items = s.items as TSchema & { enum?: unknown[] };
    return items.enum ? `a comma-separated list of ${items.enum.join(', ')}` : 'a comma-separated list';
  }
  if (s.type === 'integer') return `an integer${range(s)}`;
  if (s.type === 'number') return `a number${range(s)}`;
  if (s.type === 'boolean') return 'true or false';
  return s.description ?? (s.type ? `a ${s.type}` : 'a valid value');
}
