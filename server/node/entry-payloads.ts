// What a log entry's data means, checked where it enters this member from a
// peer, so that nothing reaches the log that applying cannot take:
//
// - a normal entry holds one InternalRequest asking for exactly one thing
//   (decodeRequest); the leader also checks a proposal from a peer as the API
//   checks a client's request (checkProposedRequest);
// - a ConfChange entry holds a ConfChange of a known type whose context
//   decodes and names the member it changes (decodeConfChangeEntry); the
//   leader also checks a proposed change against the membership
//   (checkProposedConfChange).
//
// The checks of a follower (on the leader's appends) are structural only: a
// follower must take every entry the leader accepted, whatever its own flags.
// Applying decodes once more what was not kept decoded, and a failure there is
// fatal (committedRequest, committedConfChange): the log is then not what the
// checks let in, and the member stops rather than skip an entry.
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { checkDelete, checkPut, checkTxn } from '../requests/checks.js';
import { authRequestKinds } from '../auth/store.js';
import { decodeConfChangeContext, type ConfChangeContext, type Membership } from '../membership/membership.js';
import { raftNodeId } from '../membership/ids.js';
import { ConfChangeType, decodeConfChange, type ConfChange, type Entry } from '../raft/index.js';

/** An entry's data is not what its type says it holds. */
export class EntryPayloadError extends Error {
  override readonly name = 'EntryPayloadError';
}

/** A committed entry cannot be applied: the member must stop. */
export class CorruptEntryError extends Error {
  override readonly name = 'CorruptEntryError';
  constructor(entry: Entry, cause: unknown) {
    super(`cannot apply the committed entry at index ${entry.index} (term ${entry.term}): ${(cause as Error).message}`, { cause });
  }
}

/** What an InternalRequest may ask for; exactly one of them. */
const requestKinds = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke', 'memberAttributes', 'memberPeerUrls', 'alarm', ...authRequestKinds] as const satisfies ReadonlyArray<keyof InternalRequest>;
/**
 * Fails to compile when internal.proto gains a request the list above lacks:
 * a member would then refuse every entry holding one, from its own leader too.
 */
const everyRequestKindListed: Exclude<keyof InternalRequest, 'id' | 'auth' | (typeof requestKinds)[number]> extends never ? true : never = true;
void everyRequestKindListed;

/**
 * The request a normal entry holds. Throws EntryPayloadError. The generated
 * decoder refuses messages nested more than 100 deep, so a txn that decodes
 * is one that applying (which walks nested txns recursively) can walk.
 */
export function decodeRequest(data: Uint8Array): InternalRequest {
  let request: InternalRequest;
  try {
    request = InternalRequest.decode(data);
  } catch (error) {
    throw new EntryPayloadError(`not an InternalRequest (${(error as Error).message})`, { cause: error });
  }
  let kinds = 0;
  for (const kind of requestKinds) if (request[kind] !== undefined) kinds++;
  if (kinds !== 1) throw new EntryPayloadError(`an InternalRequest asking for ${kinds} things instead of one`);
  return request;
}

export interface ProposalLimits {
  /** --max-txn-ops */
  txnOpsMax: number;
  /** --max-request-bytes */
  requestBytesMax: number;
}

/**
 * Checks a request that peer `from` proposed as this member's API checks a
 * client's (etcd's messages). Throws EntryPayloadError.
 */
export function checkProposedRequest(request: InternalRequest, dataBytes: number, from: number, limits: ProposalLimits): void {
  if (dataBytes > limits.requestBytesMax) throw new EntryPayloadError(`a request of ${dataBytes} bytes, above --max-request-bytes`);
  try {
    if (request.put !== undefined) checkPut(request.put);
    else if (request.deleteRange !== undefined) checkDelete(request.deleteRange);
    else if (request.txn !== undefined) checkTxn(request.txn, limits.txnOpsMax);
  } catch (error) {
    throw new EntryPayloadError(`refused as a client request: ${(error as Error).message}`, { cause: error });
  }
  // A member publishes its own name and client URLs, no other's.
  const attributes = request.memberAttributes;
  if (attributes !== undefined && raftNodeId(attributes.memberId) !== from) throw new EntryPayloadError(`${from.toString(16)} publishes the attributes of ${attributes.memberId.toString(16)}`);
}

const confChangeTypes: ReadonlySet<string> = new Set(Object.values(ConfChangeType));

/** The change a ConfChange entry holds, and its context. Throws EntryPayloadError. */
export function decodeConfChangeEntry(data: Uint8Array): { cc: ConfChange; context: ConfChangeContext } {
  let cc: ConfChange;
  let context: ConfChangeContext;
  try {
    cc = decodeConfChange(data);
    context = decodeConfChangeContext(cc.context);
  } catch (error) {
    throw new EntryPayloadError(`not a ConfChange (${(error as Error).message})`, { cause: error });
  }
  if (!confChangeTypes.has(cc.type)) throw new EntryPayloadError(`a ConfChange of unknown type ${String(cc.type)}`);
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) throw new EntryPayloadError(`a ConfChange of member ${String(cc.nodeId)}`);
  if (context.member !== undefined && raftNodeId(context.member.ID) !== cc.nodeId) throw new EntryPayloadError(`a ConfChange of ${cc.nodeId.toString(16)} describing member ${context.member.ID.toString(16)}`);
  return { cc, context };
}

/**
 * Checks a membership change that a peer proposed against the membership
 * this member applied: an addition brings a new member with peer URLs, or
 * promotes a learner (forwarded by a member that just lost leadership).
 * Throws EntryPayloadError.
 */
export function checkProposedConfChange(change: { cc: ConfChange; context: ConfChangeContext }, membership: Pick<Membership, 'get' | 'isRemoved' | 'idOfNode'>): void {
  const { cc, context } = change;
  if (cc.type === ConfChangeType.RemoveNode) return;
  const id = context.member?.ID ?? membership.idOfNode(cc.nodeId) ?? BigInt(cc.nodeId);
  if (context.member === undefined) {
    if (cc.type === ConfChangeType.AddNode && membership.get(id)?.isLearner === true) return;
    throw new EntryPayloadError(`${cc.type} of ${id.toString(16)} without the member, which is not a learner to promote`);
  }
  if (membership.get(id) !== undefined || membership.isRemoved(id)) throw new EntryPayloadError(`${cc.type} of ${id.toString(16)}, which is or was a member`);
  if (context.member.peerURLs.length === 0) throw new EntryPayloadError(`${cc.type} of ${id.toString(16)} without peer URLs`);
}

/** The request of a committed normal entry, for applying. Throws CorruptEntryError. */
export function committedRequest(entry: Entry): InternalRequest {
  try {
    return decodeRequest(entry.data);
  } catch (error) {
    throw new CorruptEntryError(entry, error);
  }
}

/** The change of a committed ConfChange entry, for applying. Throws CorruptEntryError. */
export function committedConfChange(entry: Entry): { cc: ConfChange; context: ConfChangeContext } {
  try {
    return decodeConfChangeEntry(entry.data);
  } catch (error) {
    throw new CorruptEntryError(entry, error);
  }
}
