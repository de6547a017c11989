import { ProxyFailure } from './failure.js';

/** `{{name}}` and `${name}`, with optional spaces inside the braces. */
const REFERENCE = /\{\{\s*([A-Za-z_$][\w.$-]*)\s*\}\}|\$\{\s*([A-Za-z_$][\w.$-]*)\s*\}/g;

/**
 * Replaces every variable reference in `text`. A reference to a variable that is not defined is
 * an `unknown_variable` failure naming it, never an empty string sent to the target.
 */
export function substituteVariables(text: string, variables: ReadonlyMap<string, string>): string {
  return text.replace(REFERENCE, (reference, curly: string | undefined, dollar: string | undefined) => {
    const name = (curly ?? dollar) as string;
    const value = variables.get(name);
    if (value === undefined) throw new ProxyFailure('unknown_variable', `The variable ${name} is not defined.`, { variable: name });
    return value;
  });
}
