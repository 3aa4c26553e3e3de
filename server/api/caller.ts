// Who a client request runs as, as etcd's AuthInfoFromCtx: the user of the
// `token` metadata (or `authorization`, which the JSON gateway sends) when there is one (an unknown token fails the request
// with "invalid auth token"), else, with --client-cert-auth, the common name
// of the verified client certificate, else nobody (user "", revision 0,
// which applying refuses with "user name is empty" while auth is enabled).
// The auth revision is the store's at this check; a token that carries its
// own (JWT) keeps that one.
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { AuthOldRevisionError, InvalidAuthTokenError } from '../auth/errors.js';
import { firstMetadataValue, type CallIdentity } from '../grpc/unary.js';
import { simpleTokenIndex } from '../auth/tokens.js';
import type { ServiceContext } from './context.js';

/** The metadata key of the auth token (etcd's rpctypes.TokenFieldNameGRPC). */
export const tokenMetadataKey = 'token';
/** The other key etcd reads a token from (rpctypes.TokenFieldNameSwagger): the JSON gateway's Authorization header. */
export const authorizationMetadataKey = 'authorization';

/** How Node's HTTP/2 joins the values of a header sent more than once. */
const repeatedHeaderSeparator = ', ';

const nobody: RequestAuth = { username: '', authRevision: 0n };

/**
 * The user `call` runs as. Rejects with InvalidAuthTokenError for a token this member does not know.
 * A call without a token needs no preparing, and is answered without a turn of the event loop.
 */
export function callerAuth(context: ServiceContext, call: CallIdentity): RequestAuth | Promise<RequestAuth> {
  if (tokenOf(call) === undefined) return callerAuthNow(context, call);
  return prepareCaller(context, call).then(() => callerAuthNow(context, call));
}

/** Does the slow part of knowing `call`'s token (a JWT's signature), so that callerAuthNow can answer at once. */
export async function prepareCaller(context: ServiceContext, call: CallIdentity): Promise<void> {
  const token = tokenOf(call);
  if (token === undefined) return;
  await context.tokens.prepare(token);
  // A simple token another member issued names the log index of its Authenticate: a member that has
  // not applied it yet catches up (a read barrier) before it calls the token unknown, as etcd waits.
  if (context.tokens.identify(token) !== undefined) return;
  const index = simpleTokenIndex(token);
  if (index !== undefined && index > context.node.appliedIndexValue) await context.node.readBarrier().catch(() => undefined);
}

/** As callerAuth, once prepareCaller resolved for `call` (a watch stream's creates are handled in order). */
export function callerAuthNow(context: ServiceContext, call: CallIdentity): RequestAuth {
  const token = tokenOf(call);
  if (token !== undefined) {
    const owner = context.tokens.identify(token);
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
 * The token `call` carries. A client may send it twice (python-etcd3 sends it
 * as call credentials and again as metadata); Node's HTTP/2 joins a repeated
 * header's values with ", ", and etcd reads the first value (grpc-go's
 * md["token"][0]), so the first of the joined values is the token. Neither a
 * simple token nor a JWT contains a comma.
 */
function tokenOf(call: CallIdentity): string | undefined {
  const value = firstMetadataValue(call, tokenMetadataKey) ?? firstMetadataValue(call, authorizationMetadataKey);
  return value?.split(repeatedHeaderSeparator)[0];
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
