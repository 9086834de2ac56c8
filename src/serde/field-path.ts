import type { Type } from 'avsc';

/** The parts of avsc's runtime types that its typings leave out. */
interface TypeShape {
  readonly typeName: string;
  readonly fields?: readonly { readonly name: string; readonly type: TypeShape }[];
  readonly itemsType?: TypeShape;
  readonly valuesType?: TypeShape;
  readonly types?: readonly TypeShape[];
}

/**
 * Turns avsc's errorHook path (`['candidates', '2', 'actionId']`) into the field path people
 * write (`candidates[2].actionId`, `attributes["lang"]`). Walking the type is what tells an
 * array index from a map key or a field name.
 */
export function fieldPath(type: Type, path: readonly string[]): string {
  let current: TypeShape | undefined = type;
  let out = '';
  for (const segment of path) {
    current = current && pickBranch(current, segment);
    switch (current?.typeName) {
      case 'array':
        out += `[${segment}]`;
        current = current.itemsType;
        break;
      case 'map':
        out += `[${JSON.stringify(segment)}]`;
        current = current.valuesType;
        break;
      default:
        out += out === '' ? segment : `.${segment}`;
        current = current?.fields?.find((field) => field.name === segment)?.type;
    }
  }
  return out;
}

/** A union is transparent in avsc's paths: step into the branch the next segment belongs to. */
function pickBranch(type: TypeShape, segment: string): TypeShape {
  if (!type.types) return type;
  return (
    type.types.find(
      (branch) => branch.typeName === 'array' || branch.typeName === 'map' || branch.fields?.some((field) => field.name === segment),
    ) ?? type
  );
}
