// Who a client request runs as, as etcd's AuthInfoFromCtx: the user of the
// `token` metadata when there is one (an unknown token fails the request
// with "invalid auth token"), else, with --client-cert-auth, the common name
// of the verified client certificate, else nobody (user "", revision 0,
// which applying refuses with "user name is empty" while auth is enabled).
// The auth revision is the store's at this check; a token that carries its
// own (JWT) keeps that one.
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { AuthOldRevisionError, InvalidAuthTokenError } from '../auth/errors.js';
import type { CallIdentity } from '../grpc/unary.js';
import type { ServiceContext } from './context.js';

/** The metadata key of the auth token (etcd's rpctypes.TokenFieldNameGRPC). */
export const tokenMetadataKey = 'token';

const nobody: RequestAuth = { username: '', authRevision: 0n };

/** The user `call` runs as. Throws InvalidAuthTokenError for a token this member does not know. */
export function callerAuth(context: ServiceContext, call: CallIdentity): RequestAuth {
  const token = call.metadata.get(tokenMetadataKey)[0];
  if (token !== undefined) {
    const owner = context.tokens.identify(String(token));
    if (owner === undefined) throw new InvalidAuthTokenError();
    return { username: owner.username, authRevision: owner.revision ?? context.auth.revision };
  }
  if (!context.auth.enabled || !context.config.clientTls.clientCertAuth) return nobody;
  const commonName = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  // grpc-js accepted the certificate only if the trusted CA signed it (server-credentials.ts).
  if (typeof commonName !== 'string' || commonName === '') return nobody;
  return { username: commonName, authRevision: context.auth.revision };
}

/**
 * Runs a read outside the log as etcd's doSerialize does: checks `auth`
 * first, and refuses the answer when the auth store changed while it was
 * made (the client retries with a fresh check).
 */
export async function readAs<T>(context: ServiceContext, auth: RequestAuth, check: () => void, read: () => T | Promise<T>): Promise<T> {
  check();
  const answer = await read();
  if (auth.authRevision !== 0n && auth.authRevision !== context.auth.revision) throw new AuthOldRevisionError();
  return answer;
}
