import { badInput } from '../../errors.ts';

const MAX_NAME = 200;

/** A name or label as stored: trimmed, 1..200 characters; BAD_USER_INPUT naming `argument` otherwise. */
export function validName(name: string, argument = 'name'): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME) {
    throw badInput(`${argument} must be 1..${MAX_NAME} characters`, { argument });
  }
  return trimmed;
}
