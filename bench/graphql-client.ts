import type { Pool } from 'undici';

/** Sends one GraphQL request over the pool; the `data` of the answer, or throws with its errors. */
export type GraphqlPost = (body: unknown, token?: string) => Promise<any>;

/** The benchmarks' client: JSON POSTs to /graphql over an undici pool (keep-alive, no pipelining). */
export function graphqlPost(pool: Pool): GraphqlPost {
  return async (body, token) => {
    const res = await pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.body.json()) as { data?: unknown; errors?: unknown[] };
    if (json.errors) throw new Error(JSON.stringify(json.errors));
    return json.data;
  };
}

/** An access token for an API client (the `token` mutation). */
export async function clientToken(post: GraphqlPost, client: { id: string; secret: string }): Promise<string> {
  const data = await post({ query: `mutation { token(clientId: "${client.id}", clientSecret: "${client.secret}") { accessToken } }` });
  return data.token.accessToken as string;
}
