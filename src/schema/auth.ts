import { builder } from './builder.ts';

export interface TokenShape {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
}

export const Token = builder.objectRef<TokenShape>('Token');
