// Test helper (not used by the server): an auth store on a test's backend,
// with a token issuer that keeps the tokens it assigned in a map, so tests
// can see what applying an Authenticate did.
import { AuthStore, type TokenIssuer } from '../auth/store.js';
import type { Backend } from '../mvcc/backend.js';

export interface KeptTokens extends TokenIssuer {
  /** token → user name. */
  readonly tokens: Map<string, string>;
}

export function keptTokens(): KeptTokens {
  const tokens = new Map<string, string>();
  return {
    tokens,
    assign: (username, prefix, index) => {
      const token = `${prefix}.${index}`;
      tokens.set(token, username);
      return token;
    },
    invalidateUser: (username) => {
      for (const [token, owner] of tokens) if (owner === username) tokens.delete(token);
    },
    clear: () => tokens.clear(),
  };
}

/** An auth store on `backend` (auth disabled until a test enables it). */
export function openAuthStore(backend: Backend, tokens: TokenIssuer = keptTokens()): AuthStore {
  return new AuthStore(backend, tokens);
}
