import { badInput } from '../../errors.ts';

const MAX_NAME = 200;

/**
 * C0 and C1 control characters (NUL, newlines, escapes…): never part of a name. A NUL cuts the name
 * short in C tools and file systems, newlines forge lines in logs and CSV exports (issue 9, attack 12).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** `what` with control characters made visible (for an error message that must not carry them). */
export const visible = (what: string) => what.replace(new RegExp(CONTROL_CHARACTERS.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A name or label as stored: trimmed, 1..200 characters; BAD_USER_INPUT naming `argument` otherwise. */
export function validName(name: string, argument = 'name'): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME) {
    throw badInput(`${argument} must be 1..${MAX_NAME} characters`, { argument });
  }
  if (CONTROL_CHARACTERS.test(trimmed)) throw badInput(`${argument} must not contain control characters (NUL, line breaks, escapes)`, { argument });
  return trimmed;
}
