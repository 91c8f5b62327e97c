/** One error of a GraphQL answer (or one the page makes up for a transport failure). */
export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; index?: number; [key: string]: unknown };
}

/** A refused or failed request: the gateway's errors, with the first one's code. */
export class GraphQLFailure extends Error {
  readonly errors: GraphQLErrorShape[];
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(errors: GraphQLErrorShape[], status?: number) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code;
  }
}

export const networkFailure = (message: string) => new GraphQLFailure([{ message, extensions: { code: 'NETWORK' } }]);

/** The code of any error (GraphQLFailure or not). */
export const codeOf = (err: unknown) => (err instanceof GraphQLFailure ? err.code : undefined);
export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
